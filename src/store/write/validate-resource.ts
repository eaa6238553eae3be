import { FhirError, Issue } from '../../errors/fhir-error';
import type { ResourceBody } from '../resource-body';
import type { ResourceValidator } from './write-hooks';

/**
 * Structural problems (unknown element, wrong type, cardinality, format) are
 * 400; a structurally sound resource that breaks an invariant is 422, the FHIR
 * split between "not parseable as FHIR" and "violates a rule".
 */
export function statusForIssues(issues: Issue[]): number {
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  return errors.length > 0 && errors.every((i) => i.code === 'invariant' || i.code === 'business-rule') ? 422 : 400;
}

export function errorIssues(issues: Issue[]): Issue[] {
  return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
}

/** Validates before anything is stored; throws with every problem found. */
export function assertValid(ctx: { validate: ResourceValidator }, resource: ResourceBody, pathPrefix?: string): void {
  const issues = ctx.validate(resource, { pathPrefix });
  const errors = errorIssues(issues);
  if (errors.length > 0) throw new FhirError(statusForIssues(issues), issues);
}
