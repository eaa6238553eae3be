// ePrescription: GET [base]/MedicationRequest/{id}/$timeline — every state change with actor, organization, time and reason.
import { readTimeline } from '../../domain/prescription/timeline';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { requireValidId } from '../../store/resource-body';

export async function medicationRequestTimeline(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const id = requireValidId(req.params.id);
  const { row, events } = await readTimeline(ctx, req.principal, id);
  const part = (name: string, key: string, value: unknown) => (value === undefined || value === null ? [] : [{ name, [key]: value }]);
  return {
    status: 200,
    body: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'prescriptionNumber', valueString: row.number },
        { name: 'task', valueReference: { reference: `Task/${row.taskId}` } },
        { name: 'state', valueCode: row.state },
        ...events.map((e) => ({
          name: 'event',
          part: [
            { name: 'time', valueInstant: e.at.toISOString() },
            { name: 'action', valueCode: e.action },
            ...part('from', 'valueCode', e.fromState),
            { name: 'to', valueCode: e.toState },
            ...part('client', 'valueString', e.actorClient),
            ...part('organization', 'valueString', e.actorOrg),
            ...part('role', 'valueCode', e.actorRole),
            ...part('reason', 'valueString', e.reason),
          ],
        })),
      ],
    },
  };
}
