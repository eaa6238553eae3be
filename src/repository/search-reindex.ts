import { sql } from 'kysely';
import type { Db } from './db';
import type { ReindexJobRow } from './search-schema';
import type { Tx } from './transaction';

/** Job-progress rows of the background reindex (table `search_reindex_job`). */
export async function readReindexJob(db: Db | Tx, id: string): Promise<ReindexJobRow | undefined> {
  const r = await sql<ReindexJobRow>`select * from search_reindex_job where id = ${id}`.execute(db);
  return r.rows[0];
}

export async function startReindexJob(db: Db, id: string, resourceType: string | null, now: Date): Promise<ReindexJobRow> {
  await sql`insert into search_reindex_job (id, status, resource_type, processed, started_at, updated_at)
    values (${id}, 'running', ${resourceType}, 0, ${now}, ${now})
    on conflict (id) do update set status = 'running', error = null, updated_at = excluded.updated_at
    where search_reindex_job.status <> 'done'`.execute(db);
  const job = await readReindexJob(db, id);
  if (!job) throw new Error(`reindex job ${id} vanished`);
  return job;
}

export async function countForReindex(db: Db, resourceType: string | null): Promise<number> {
  const r = await sql<{ n: string }>`select count(*) as n from resource where not deleted ${resourceType ? sql`and resource_type = ${resourceType}` : sql``}`.execute(db);
  return Number(r.rows[0].n);
}

export interface ReindexBatchRow {
  resource_type: string;
  id: string;
  content: string;
}

/**
 * The next batch after (afterType, afterId) in key order, locked for this
 * transaction; rows a writer holds are skipped, since that writer indexes them.
 */
export async function lockReindexBatch(tx: Tx, resourceType: string | null, afterType: string | null, afterId: string | null, limit: number): Promise<ReindexBatchRow[]> {
  const after = afterType !== null && afterId !== null ? sql`and (resource_type, id) > (${afterType}, ${afterId})` : sql``;
  const r = await sql<ReindexBatchRow>`select resource_type, id, content from resource
    where not deleted ${resourceType ? sql`and resource_type = ${resourceType}` : sql``} ${after}
    order by resource_type, id limit ${limit} for update skip locked`.execute(tx);
  return r.rows;
}

export async function saveReindexProgress(
  db: Db | Tx,
  id: string,
  p: { afterType: string | null; afterId: string | null; processed: number; total?: number; status?: string; error?: string | null; now: Date },
): Promise<void> {
  await sql`update search_reindex_job set after_type = ${p.afterType}, after_id = ${p.afterId}, processed = ${p.processed},
    total = coalesce(${p.total ?? null}, total), status = coalesce(${p.status ?? null}, status), error = ${p.error ?? null},
    updated_at = ${p.now}, finished_at = ${p.status === 'done' ? p.now : null} where id = ${id}`.execute(db);
}
