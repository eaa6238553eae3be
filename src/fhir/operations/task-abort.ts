// ePrescription: POST [base]/Task/{id}/$abort (prescriber's organization or the patient)
import { abortPrescription } from '../../domain/prescription/abort';
import { writerOf } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { requireValidId } from '../../store/resource-body';

/** 200 with the cancelled Task. 401, 403 not the prescriber's organization or the patient, 404, 409 claimed by a pharmacy or already ended. */
export async function taskAbort(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const id = requireValidId(req.params.id);
  const { task } = await abortPrescription(ctx, writerOf(req), id, req.query.get('reason') ?? undefined);
  return { status: 200, rawBody: task.text };
}
