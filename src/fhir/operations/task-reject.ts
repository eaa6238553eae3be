// ePrescription: POST [base]/Task/{id}/$reject?secret=<claim secret>
import { rejectPrescription } from '../../domain/prescription/claim';
import { writerOf } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { requireValidId } from '../../store/resource-body';

/** 200 with the Task (ready again; the secret no longer works). 403 wrong secret / not the claimant, 404, 409 not claimed or lease lapsed. */
export async function taskReject(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const id = requireValidId(req.params.id);
  const { task } = await rejectPrescription(ctx, writerOf(req), id, req.query.get('secret'), req.query.get('reason') ?? undefined);
  return { status: 200, rawBody: task.text };
}
