import { sql } from 'kysely';
import type { Db } from './db';
import type { Tx } from './transaction';
import { guarded } from './transaction';

/**
 * The durable job queue of asynchronous Bundles. Workers claim with
 * `FOR UPDATE SKIP LOCKED` and hold a lease identified by `claim_token`; a job
 * whose lease ran out (its worker died) is claimable again. Finishing checks the
 * token, so a worker that lost its lease can never record a result.
 */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobRow {
  id: string;
  status: JobStatus;
  request: string;
  entryCount: number;
  progress: string | null;
  attempts: number;
  claimToken: string | null;
  leaseUntil: Date | null;
  cancelRequested: boolean;
  resultStatus: number | null;
  resultHeaders: string | null;
  resultBody: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface JobResult {
  status: 'done' | 'failed' | 'cancelled';
  resultStatus: number | null;
  resultHeaders: string | null;
  resultBody: string | null;
}

type Executor = Db | Tx;

interface RawJob {
  id: string;
  status: JobStatus;
  request: string;
  entry_count: number;
  progress: string | null;
  attempts: number;
  claim_token: string | null;
  lease_until: Date | string | null;
  cancel_requested: boolean;
  result_status: number | null;
  result_headers: string | null;
  result_body: string | null;
  created_at: Date | string;
  finished_at: Date | string | null;
}

const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

function toJob(r: RawJob): JobRow {
  return {
    id: r.id,
    status: r.status,
    request: r.request,
    entryCount: r.entry_count,
    progress: r.progress,
    attempts: r.attempts,
    claimToken: r.claim_token,
    leaseUntil: r.lease_until === null ? null : toDate(r.lease_until),
    cancelRequested: r.cancel_requested,
    resultStatus: r.result_status,
    resultHeaders: r.result_headers,
    resultBody: r.result_body,
    createdAt: toDate(r.created_at),
    finishedAt: r.finished_at === null ? null : toDate(r.finished_at),
  };
}

export async function enqueueJob(db: Executor, job: { id: string; request: string; entryCount: number; now: Date }): Promise<void> {
  await guarded(() =>
    sql`insert into bundle_job (id, status, request, entry_count, created_at, updated_at)
        values (${job.id}, 'queued', ${job.request}, ${job.entryCount}, ${job.now}, ${job.now})`.execute(db),
  );
}

/** Claims the oldest queued job, or a running one whose lease has expired. */
export async function claimNextJob(db: Executor, claim: { token: string; now: Date; leaseUntil: Date }): Promise<JobRow | undefined> {
  return guarded(async () => {
    const { rows } = await sql<RawJob>`
      update bundle_job set status = 'running', claim_token = ${claim.token}, lease_until = ${claim.leaseUntil},
        attempts = attempts + 1, updated_at = ${claim.now}
      where id = (
        select id from bundle_job
        where status = 'queued' or (status = 'running' and lease_until < ${claim.now})
        order by created_at
        limit 1
        for update skip locked)
      returning *`.execute(db);
    return rows[0] && toJob(rows[0]);
  });
}

/** Extends the lease of a job we still hold; false if it was taken from us. */
export async function extendJobLease(db: Executor, id: string, token: string, leaseUntil: Date, progress?: string): Promise<boolean> {
  return guarded(async () => {
    const { rows } = await sql<{ id: string }>`
      update bundle_job set lease_until = ${leaseUntil}, progress = coalesce(${progress ?? null}, progress), updated_at = now()
      where id = ${id} and claim_token = ${token} and status = 'running'
      returning id`.execute(db);
    return rows.length === 1;
  });
}

/**
 * Locks our job row for the rest of the transaction; returns whether a cancel
 * was requested, or undefined when the job is no longer ours.
 */
export async function lockClaimedJob(tx: Tx, id: string, token: string): Promise<{ cancelRequested: boolean } | undefined> {
  const { rows } = await sql<{ cancel_requested: boolean }>`
    select cancel_requested from bundle_job where id = ${id} and claim_token = ${token} and status = 'running' for update`.execute(tx);
  return rows[0] && { cancelRequested: rows[0].cancel_requested };
}

/** Records the outcome if we still hold the job. */
export async function finishJob(db: Executor, id: string, token: string, result: JobResult, now: Date): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    update bundle_job set status = ${result.status}, result_status = ${result.resultStatus}, result_headers = ${result.resultHeaders},
      result_body = ${result.resultBody}, finished_at = ${now}, updated_at = ${now}, lease_until = null
    where id = ${id} and claim_token = ${token} and status = 'running'
    returning id`.execute(db);
  return rows.length === 1;
}

export async function readJob(db: Executor, id: string): Promise<JobRow | undefined> {
  return guarded(async () => {
    const { rows } = await sql<RawJob>`select * from bundle_job where id = ${id}`.execute(db);
    return rows[0] && toJob(rows[0]);
  });
}

/**
 * Cancels a queued job at once; a running one is flagged and rolled back by its
 * worker before it commits. Returns the status after the request, or undefined.
 */
export async function requestJobCancel(db: Executor, id: string, now: Date): Promise<JobStatus | undefined> {
  return guarded(async () => {
    const { rows } = await sql<{ status: JobStatus }>`
      update bundle_job set cancel_requested = true, updated_at = ${now},
        status = case when status = 'queued' then 'cancelled' else status end,
        finished_at = case when status = 'queued' then ${now} else finished_at end
      where id = ${id} and status in ('queued', 'running')
      returning status`.execute(db);
    if (rows[0]) return rows[0].status;
    const job = await readJob(db, id);
    return job?.status;
  });
}

/** Puts a job we hold back in the queue (after a transient failure) for another attempt. */
export async function requeueJob(db: Executor, id: string, token: string, now: Date): Promise<boolean> {
  return guarded(async () => {
    const { rows } = await sql<{ id: string }>`
      update bundle_job set status = 'queued', claim_token = null, lease_until = null, updated_at = ${now}
      where id = ${id} and claim_token = ${token} and status = 'running'
      returning id`.execute(db);
    return rows.length === 1;
  });
}
