import type { Logger } from 'pino';
import type { Db } from '../../repository/db';
import {
  countForReindex,
  lockReindexBatch,
  readReindexJob,
  saveReindexProgress,
  startReindexJob,
} from '../../repository/search-reindex';
import { replaceIndexRows } from '../../repository/search-index';
import { inTransaction } from '../../repository/transaction';
import { systemClock, type Clock } from '../../shared/clock';
import { parseJson } from '../../shared/json';
import { extractIndexRows } from './extract-index';

/**
 * Rebuilds the search index of every current resource (e.g. after the indexed
 * parameters changed). Walks `resource` in (type, id) order in small batches,
 * each its own short transaction that locks only its rows (skipping rows a
 * writer holds; that writer indexes them), and records the position after each
 * batch in `search_reindex_job`, so a stopped job resumes where it left off.
 */
export interface ReindexOptions {
  db: Db;
  logger: Logger;
  jobId: string;
  resourceType?: string;
  batchSize?: number;
  clock?: Clock;
  signal?: AbortSignal;
  onProgress?: (p: ReindexProgress) => void;
}

export interface ReindexProgress {
  jobId: string;
  processed: number;
  total: number;
  done: boolean;
}

export async function runReindex(opts: ReindexOptions): Promise<ReindexProgress> {
  const clock = opts.clock ?? systemClock;
  const batchSize = opts.batchSize ?? 200;
  const job = await startReindexJob(opts.db, opts.jobId, opts.resourceType ?? null, clock.now());
  if (job.status === 'done') return { jobId: job.id, processed: Number(job.processed), total: Number(job.total ?? job.processed), done: true };
  const total = await countForReindex(opts.db, job.resource_type);
  let afterType = job.after_type;
  let afterId = job.after_id;
  let processed = Number(job.processed);
  try {
    for (;;) {
      if (opts.signal?.aborted) {
        await saveReindexProgress(opts.db, opts.jobId, { afterType, afterId, processed, total, status: 'paused', now: clock.now() });
        return { jobId: opts.jobId, processed, total, done: false };
      }
      const n = await inTransaction(opts.db, async (tx) => {
        const batch = await lockReindexBatch(tx, job.resource_type, afterType, afterId, batchSize);
        for (const row of batch) {
          const resource = parseJson(row.content) as { resourceType: string; id: string } & Record<string, unknown>;
          await replaceIndexRows(tx, row.resource_type, row.id, extractIndexRows({ ...resource, resourceType: row.resource_type, id: row.id }));
        }
        if (batch.length) {
          const last = batch[batch.length - 1];
          afterType = last.resource_type;
          afterId = last.id;
          processed += batch.length;
          await saveReindexProgress(tx, opts.jobId, { afterType, afterId, processed, total, now: clock.now() });
        }
        return batch.length;
      });
      opts.onProgress?.({ jobId: opts.jobId, processed, total, done: n === 0 });
      if (n === 0) break;
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    opts.logger.error({ jobId: opts.jobId, err: { message } }, 'reindex failed');
    await saveReindexProgress(opts.db, opts.jobId, { afterType, afterId, processed, total, status: 'failed', error: message.slice(0, 1000), now: clock.now() });
    throw err;
  }
  await saveReindexProgress(opts.db, opts.jobId, { afterType, afterId, processed, total, status: 'done', now: clock.now() });
  opts.logger.info({ jobId: opts.jobId, processed }, 'reindex done');
  return { jobId: opts.jobId, processed, total, done: true };
}

export { readReindexJob };
