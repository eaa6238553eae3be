// https://hl7.org/fhir/R4/async.html — the status URL of an asynchronous request.
import { FhirError } from '../../errors/fhir-error';
import { informationOutcome } from '../../errors/operation-outcome';
import { cancelOwnJob, readOwnJob } from '../../store/jobs';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';

/** GET [base]/_async/{jobId}: 202 with X-Progress while running, then the stored answer. */
export async function asyncStatus(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const job = await readOwnJob(ctx.db, req.principal, req.params.jobId ?? '');
  if (!job || job.status === 'cancelled') throw FhirError.notFound(`No asynchronous request '${req.params.jobId ?? ''}'`, { code: 'NHIS-1630' });
  if (job.status === 'queued' || job.status === 'running') {
    const progress = job.progress ?? (job.status === 'queued' ? 'queued' : `running (attempt ${job.attempts})`);
    return { status: 202, headers: { 'X-Progress': progress, 'Retry-After': '1' } };
  }
  const headers = job.resultHeaders ? (JSON.parse(job.resultHeaders) as Record<string, string>) : {};
  return { status: job.resultStatus ?? 500, headers, rawBody: job.resultBody ?? undefined };
}

/** DELETE [base]/_async/{jobId}: cancels; a running Bundle is rolled back before it commits. */
export async function asyncCancel(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const status = await cancelOwnJob(ctx.db, req.principal, req.params.jobId ?? '', ctx.clock.now());
  if (status === undefined || status === 'cancelled') {
    if (status === undefined) throw FhirError.notFound(`No asynchronous request '${req.params.jobId ?? ''}'`, { code: 'NHIS-1630' });
    return { status: 202, body: informationOutcome('Cancelled') };
  }
  if (status === 'running') return { status: 202, body: informationOutcome('Cancellation requested; the Bundle will be rolled back') };
  throw FhirError.conflict(`The request already finished (${status}); its result is kept`, { code: 'NHIS-1631' });
}
