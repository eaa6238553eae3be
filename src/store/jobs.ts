import type { Principal } from '../auth/principal';
import type { Db } from '../repository/db';
import { readJob, requestJobCancel, type JobRow, type JobStatus } from '../repository/jobs';

/**
 * Asynchronous Bundle jobs (https://hl7.org/fhir/R4/async.html). A job's request and result hold
 * health data, so they are the sender's alone: a job is reached only by the client that queued it
 * (the principal stored with its request), and to anyone else it does not exist.
 */
export { claimNextJob, enqueueJob, extendJobLease, finishJob, lockClaimedJob, requeueJob, type JobRow } from '../repository/jobs';
export { purgeExpiredIdempotencyKeys } from '../repository/idempotency';

function ownerOf(job: JobRow): string | undefined {
  try {
    const request = JSON.parse(job.request) as { info?: { principal?: { clientId?: unknown; subject?: unknown } } };
    const p = request.info?.principal;
    return typeof p?.clientId === 'string' ? `${p.clientId} ${String(p.subject ?? '')}` : undefined;
  } catch {
    return undefined;
  }
}

function isOwner(job: JobRow, principal: Principal | undefined): boolean {
  const owner = ownerOf(job);
  // Jobs queued before jobs named their sender stay readable by any client, as they were.
  if (owner === undefined) return true;
  return !!principal && owner === `${principal.clientId} ${principal.subject}`;
}

/** The job, if `principal` queued it. */
export async function readOwnJob(db: Db, principal: Principal | undefined, id: string): Promise<JobRow | undefined> {
  const job = await readJob(db, id);
  return job && isOwner(job, principal) ? job : undefined;
}

/** Cancels the job if `principal` queued it; undefined when there is no such job of theirs. */
export async function cancelOwnJob(db: Db, principal: Principal | undefined, id: string, now: Date): Promise<JobStatus | undefined> {
  const job = await readJob(db, id);
  if (!job || !isOwner(job, principal)) return undefined;
  return requestJobCancel(db, id, now);
}
