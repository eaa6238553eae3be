// ePrescription: POST [base]/Task/{id}/$accept?ac=<access code>
// (model: https://gemspec.gematik.de/docs/gemSpec/gemSpec_FD_eRp/ — Task $accept)
import { acceptPrescription } from '../../domain/prescription/claim';
import { writerOf } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { requireValidId } from '../../store/resource-body';
import { NO_STORE } from './prescription-body';

/**
 * 200: a Parameters with the Task, the claim `secret` (known only to this
 * pharmacy; the same on a retry) and `leaseExpires`. 401 no token, 403 not a
 * pharmacy, 404 unknown Task or wrong access code (one answer for both, so the
 * operation reveals nothing about prescriptions the caller cannot name), 409 claimed by another
 * pharmacy or not ready (naming the state), 410 validity ended.
 */
export async function taskAccept(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const id = requireValidId(req.params.id);
  const result = await acceptPrescription(ctx, writerOf(req), id, req.query.get('ac'));
  const task = result.task ?? undefined;
  return {
    status: 200,
    headers: { ...NO_STORE },
    body: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'secret', valueString: result.secret },
        { name: 'leaseExpires', valueInstant: result.row.leaseExpiresAt?.toISOString() },
        { name: 'prescriptionNumber', valueString: result.row.number },
        { name: 'medicationRequest', valueReference: { reference: `MedicationRequest/${result.row.medicationRequestId}` } },
        ...(task ? [{ name: 'task', resource: task.resource }] : [{ name: 'task', valueReference: { reference: `Task/${id}` } }]),
      ],
    },
  };
}
