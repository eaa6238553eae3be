// ePrescription: POST [base]/Task/{id}/$close?secret=<claim secret>, body: the final MedicationDispense(s) (optional after $dispense)
import { closePrescription } from '../../domain/prescription/dispense';
import { writerOf } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { requireValidId } from '../../store/resource-body';
import { resourcesOf } from './prescription-body';

/**
 * 200: a Parameters with the signed `receipt` (JWS, verifiable with
 * `/.well-known/jwks.json`), the Task (completed, or ready for the next fill)
 * and the MedicationDispenses. 403 wrong secret / not the claimant, 404,
 * 409 not claimed (naming the state) or lease lapsed, 422 nothing dispensed or
 * more than remains.
 */
export async function taskClose(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const id = requireValidId(req.params.id);
  const dispenses = resourcesOf(req.body, 'MedicationDispense', false);
  const issuer = ctx.config.authIssuer ?? ctx.config.baseUrl ?? req.baseUrl;
  const result = await closePrescription(ctx, writerOf(req), id, req.query.get('secret'), dispenses, issuer);
  return {
    status: 200,
    body: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'receipt', valueString: result.receipt },
        { name: 'state', valueCode: result.row.state },
        { name: 'task', resource: result.task.resource },
        ...result.dispenses.map((d) => ({ name: 'medicationDispense', resource: d.resource })),
      ],
    },
  };
}
