import { randomUUID } from 'node:crypto';
import { FhirError } from '../../errors/fhir-error';
import { internalErrorOutcome, outcomeFromError } from '../../errors/operation-outcome';
import type { Principal } from '../../auth/principal';
import { mapDriverError } from '../../store/errors';
import { claimNextJob, extendJobLease, finishJob, lockClaimedJob, purgeExpiredIdempotencyKeys, requeueJob, type JobRow } from '../../store/jobs';
import { SERVER_SCOPE } from '../../store/access/access-scope';
import { parseJson, stringifyJson } from '../../shared/json';
import { actorOfRequest, runBundle, type BundleJobRequest } from '../bundle/bundle-interaction';
import { scopeOf } from '../access';
import type { FhirContext } from '../context';

/** Attempts before a job that keeps failing with a server error is given up. */
const MAX_ATTEMPTS = 3;
const PURGE_EVERY_MS = 10 * 60_000;

export interface BundleWorker {
  stop(): Promise<void>;
}

class JobCancelled extends Error {}
class LeaseLost extends Error {}

/**
 * The background worker of `Prefer: respond-async` Bundles: polls the
 * `bundle_job` table (no in-memory queue), one job at a time per process. A
 * transaction job records its result inside the Bundle's own transaction, under
 * its lease token, so a job is applied exactly once even if a worker dies or
 * its lease is taken over. The same code runs on PostgreSQL and PGlite.
 */
export function startBundleWorker(ctx: FhirContext, opts: { isShuttingDown: () => boolean }): BundleWorker {
  const workerId = randomUUID();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let lastPurge = 0;
  const active = () => !stopped && !opts.isShuttingDown();

  const schedule = (ms: number): void => {
    if (!active()) return;
    timer = setTimeout(() => {
      current = tick();
    }, ms);
    timer.unref();
  };

  async function tick(): Promise<void> {
    if (!active()) return;
    let job: JobRow | undefined;
    try {
      const now = ctx.clock.now();
      if (now.getTime() - lastPurge > PURGE_EVERY_MS) {
        lastPurge = now.getTime();
        await purgeExpiredIdempotencyKeys(ctx.db, now);
      }
      job = await claimNextJob(ctx.db, { token: `${workerId}:${randomUUID()}`, now, leaseUntil: new Date(now.getTime() + ctx.config.jobLeaseMs) });
      if (job) await run(job);
    } catch (err) {
      if (active()) ctx.logger.warn({ err: { message: (err as Error)?.message }, jobId: job?.id }, 'bundle worker tick failed');
    }
    schedule(job ? 0 : ctx.config.jobPollIntervalMs);
  }

  async function run(job: JobRow): Promise<void> {
    const token = job.claimToken!;
    const finish = (status: 'done' | 'failed' | 'cancelled', resultStatus: number | null, body: unknown) =>
      finishJob(ctx.db, job.id, token, { status, resultStatus, resultHeaders: null, resultBody: body === null ? null : stringifyJson(body) }, ctx.clock.now());
    if (job.cancelRequested) {
      await finish('cancelled', null, null);
      return;
    }
    if (job.attempts > MAX_ATTEMPTS) {
      await finish('failed', 500, internalErrorOutcome(`job ${job.id} failed ${MAX_ATTEMPTS} times`));
      return;
    }
    let progress = `running (attempt ${job.attempts})`;
    const heartbeat = setInterval(() => {
      const until = new Date(ctx.clock.now().getTime() + ctx.config.jobLeaseMs);
      // Not awaited: on PGlite it queues behind the running transaction, which is fine.
      extendJobLease(ctx.db, job.id, token, until, progress).catch(() => undefined);
    }, Math.max(100, Math.floor(ctx.config.jobLeaseMs / 3)));
    heartbeat.unref();
    try {
      const request = JSON.parse(job.request) as BundleJobRequest;
      const entries = (parseJson(request.entries) as unknown[]).map((raw, index) => ({ raw, index }));
      // The job runs as the client who queued it: its scope for reads, its name on every write's audit.
      const principal = request.info.principal ? ({ ...request.info.principal, expiresAt: new Date(request.info.principal.expiresAt) } as Principal) : undefined;
      const info = { ...request.info, principal };
      const scope = principal ? scopeOf({ config: ctx.config }, { principal }) : SERVER_SCOPE;
      const text = await runBundle(ctx, request.kind, entries, info, actorOfRequest(scope, info), {
        onProgress: (done, total) => {
          progress = `${done}/${total} entries`;
        },
        beforeCommit: async (tx, responseText) => {
          const held = await lockClaimedJob(tx, job.id, token);
          if (!held) throw new LeaseLost();
          if (held.cancelRequested) throw new JobCancelled();
          await finishJob(tx, job.id, token, { status: 'done', resultStatus: 200, resultHeaders: null, resultBody: responseText }, ctx.clock.now());
        },
      });
      // A batch has no single commit: record its answer afterwards (at-least-once for batch jobs).
      if (request.kind === 'batch') {
        await finishJob(ctx.db, job.id, token, { status: 'done', resultStatus: 200, resultHeaders: null, resultBody: text }, ctx.clock.now());
      }
    } catch (err) {
      if (err instanceof LeaseLost) {
        ctx.logger.warn({ jobId: job.id }, 'lost the lease of a bundle job; another worker owns it');
        return;
      }
      if (err instanceof JobCancelled) {
        await finish('cancelled', null, null);
        return;
      }
      const mapped = mapDriverError(err);
      if (mapped instanceof FhirError && mapped.status < 500) {
        await finish('failed', mapped.status, outcomeFromError(mapped));
      } else if (job.attempts < MAX_ATTEMPTS) {
        ctx.logger.warn({ jobId: job.id, attempt: job.attempts, err: { message: (err as Error)?.message } }, 'bundle job failed; requeued');
        await requeueJob(ctx.db, job.id, token, ctx.clock.now());
      } else {
        await finish('failed', mapped instanceof FhirError ? mapped.status : 500, mapped instanceof FhirError ? outcomeFromError(mapped) : internalErrorOutcome(job.id));
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  schedule(0);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
