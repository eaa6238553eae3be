import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FhirError, Issue } from './fhir-error';

export const NHIS_ERROR_SYSTEM = 'http://opennhis.org/fhir/CodeSystem/error-codes';

export function issueToFhir(issue: Issue): OperationOutcomeIssue {
  const out: OperationOutcomeIssue = { severity: issue.severity, code: issue.code, diagnostics: issue.diagnostics };
  if (issue.nhisCode) {
    out.details = { coding: [{ system: NHIS_ERROR_SYSTEM, code: issue.nhisCode }], text: issue.diagnostics };
  }
  if (issue.expression?.length) out.expression = issue.expression;
  return out;
}

export function outcomeOf(issues: Issue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues.map(issueToFhir) };
}

export function outcomeFromError(err: FhirError): OperationOutcome {
  return outcomeOf(err.issues);
}

/** A 500: the correlation id lets operators find the log line; no stack reaches the client. */
export function internalErrorOutcome(requestId: string): OperationOutcome {
  return outcomeOf([
    {
      severity: 'fatal',
      code: 'exception',
      diagnostics: `Internal server error; correlation id ${requestId}`,
      nhisCode: 'NHIS-1500',
    },
  ]);
}

export function informationOutcome(message: string): OperationOutcome {
  return outcomeOf([{ severity: 'information', code: 'informational', diagnostics: message }]);
}
