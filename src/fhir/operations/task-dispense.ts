// ePrescription: POST [base]/Task/{id}/$dispense?secret=<claim secret>, body: MedicationDispense(s)
import { dispensePrescription } from '../../domain/prescription/dispense';
import { writerOf } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { requireValidId } from '../../store/resource-body';
import { resourcesOf } from './prescription-body';

/** 200: a Bundle (collection) of the stored MedicationDispenses and the Task. 403, 404, 409 as $close; 422 more than remains. */
export async function taskDispense(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const id = requireValidId(req.params.id);
  const dispenses = resourcesOf(req.body, 'MedicationDispense', true);
  const result = await dispensePrescription(ctx, writerOf(req), id, req.query.get('secret'), dispenses);
  return {
    status: 200,
    body: {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [...result.dispenses, result.task].map((w) => ({ fullUrl: `${req.baseUrl}/${w.resourceType}/${w.id}`, resource: w.resource })),
    },
  };
}
