// ePrescription: POST [base]/MedicationRequest/$prescribe
// (MedicationRequest + server-owned Task, as in the German E-Rezept: https://gemspec.gematik.de/docs/gemSpec/gemSpec_FD_eRp/)
import { outcomeOf } from '../../errors/operation-outcome';
import { prescribe, type PrescribeResult } from '../../domain/prescription/prescribe';
import { FhirError } from '../../errors/fhir-error';
import { requirePrincipal } from '../../domain/prescription/actors';
import { inTransaction } from '../../repository/transaction';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { assertValid } from '../validate-resource';
import { NO_STORE, resourcesOf } from './prescription-body';

async function run(ctx: FhirContext, req: FhirRequest, body: unknown): Promise<PrescribeResult> {
  const principal = requirePrincipal(req.principal);
  const requests = resourcesOf(body, 'MedicationRequest', true);
  requests.forEach((r, i) => assertValid(ctx, r, requests.length > 1 ? `MedicationRequest[${i}]` : undefined));
  return inTransaction(ctx.db, (tx) => prescribe(ctx, tx, principal, req.requestId, requests));
}

/**
 * `$prescribe`: one MedicationRequest, or a Bundle/Parameters of several
 * sharing a groupIdentifier. Answers a Parameters with, per item, the
 * prescription number, the access code (shown this once only), the stored
 * MedicationRequest and Task; and an OperationOutcome with safety warnings.
 */
export async function prescribeOperation(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const result = await run(ctx, req, req.body);
  const outcome = outcomeOf(
    result.warnings.length > 0 ? result.warnings : [{ severity: 'information', code: 'informational', diagnostics: `${result.items.length} prescription(s) issued` }],
  );
  return {
    status: 200,
    headers: { ...NO_STORE },
    body: {
      resourceType: 'Parameters',
      parameter: [
        ...result.items.map((item) => ({
          name: 'prescription',
          part: [
            { name: 'prescriptionNumber', valueIdentifier: (item.task.resource.identifier as unknown[])[0] },
            { name: 'accessCode', valueString: item.accessCode },
            { name: 'medicationRequest', resource: item.medicationRequest.resource },
            { name: 'task', resource: item.task.resource },
          ],
        })),
        { name: 'outcome', resource: outcome },
      ],
    },
  };
}

