import { sql } from 'kysely';
import type { Db } from './db';
import { insertFreshWithIndexIn, type FreshVersion, type ResourceIndexRows } from './search-index';
import { guarded, inTransaction } from './transaction';

/**
 * The audit trail's intake (migration 0007): AuditEvents are appended as narrow rows, then
 * moved ("promoted") in batches into the resource store with their history and search index
 * rows. Delete-from-outbox and insert-into-store share one transaction, so an event is in
 * exactly one of the two at any time, whatever crashes.
 */

export interface OutboxEvent {
  id: string;
  /** Its meta.lastUpdated. */
  lastUpdated: Date;
  /** The AuditEvent as it will be served: id and meta (versionId 1) already set. */
  content: string;
}

/** One statement whatever the number of events: three array parameters. */
export async function appendToAuditOutbox(db: Db, events: OutboxEvent[], opts: { waitForFlush: boolean }): Promise<void> {
  if (events.length === 0) return;
  const insert = sql`insert into audit_outbox (id, last_updated, content)
    select * from unnest(${events.map((e) => e.id)}::text[], ${events.map((e) => e.lastUpdated.toISOString())}::timestamptz[], ${events.map((e) => e.content)}::text[])`;
  if (opts.waitForFlush) {
    await guarded(() => insert.execute(db));
    return;
  }
  await inTransaction(db, async (tx) => {
    // Committed before returning, but without waiting for the WAL flush (AUDIT_READ_COMMIT=fast).
    await sql`set local synchronous_commit = off`.execute(tx);
    await insert.execute(tx);
  });
}

/** One promoter at a time, across processes (node:cluster workers share the database). */
const PROMOTION_LOCK = sql`hashtextextended('opennhis.audit-outbox.promotion', 0)`;

export interface PromotionResult {
  /** Events moved into the resource store. */
  promoted: number;
  /** False when `wait` was off and another promoter held the lock. */
  ran: boolean;
}

/**
 * Moves up to `limit` of the oldest pending events into the resource store. With `wait`, waits
 * for a promoter running elsewhere to finish first, so that everything appended before the
 * call is promoted by the time a loop of these returns 0 (what AuditEvent reads rely on).
 * `indexRowsOf` computes the search index rows (the search layer's extraction, passed down).
 */
export async function promoteAuditOutbox(
  db: Db,
  indexRowsOf: (resources: ({ resourceType: string; id: string } & Record<string, unknown>)[]) => ResourceIndexRows[],
  opts: { wait: boolean; limit: number },
): Promise<PromotionResult> {
  return inTransaction(db, async (tx) => {
    // The rows are already durable here: losing this commit in a crash only leaves them in the
    // outbox to be promoted again, so it need not wait for the WAL flush.
    const noFlush = sql`set_config('synchronous_commit', 'off', true)`;
    if (opts.wait) await sql`select pg_advisory_xact_lock(${PROMOTION_LOCK}), ${noFlush}`.execute(tx);
    else {
      const got = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${PROMOTION_LOCK}) as ok, ${noFlush}`.execute(tx);
      if (!got.rows[0]?.ok) return { promoted: 0, ran: false };
    }
    const taken = await sql<{ id: string; last_updated: Date | string; content: string }>`
      delete from audit_outbox where seq in (select seq from audit_outbox order by seq limit ${opts.limit})
      returning id, last_updated, content`.execute(tx);
    if (taken.rows.length === 0) return { promoted: 0, ran: true };
    const versions: FreshVersion[] = taken.rows.map((r) => ({ resourceType: 'AuditEvent', id: r.id, lastUpdated: new Date(r.last_updated), content: r.content }));
    const resources = taken.rows.map((r) => JSON.parse(r.content) as { resourceType: string; id: string } & Record<string, unknown>);
    await insertFreshWithIndexIn(tx, versions, indexRowsOf(resources));
    return { promoted: taken.rows.length, ran: true };
  });
}

/**
 * Whether any event awaits promotion. An event is visible either here or in the resource store
 * (promotion moves it in one transaction), so "none" means every committed event is searchable.
 */
export async function hasPendingAuditEvents(db: Db): Promise<boolean> {
  const r = await guarded(() => sql<{ pending: boolean }>`select exists (select 1 from audit_outbox) as pending`.execute(db));
  return r.rows[0]?.pending === true;
}

/** Events not yet promoted (monitoring, benchmarks). */
export async function auditOutboxBacklog(db: Db): Promise<number> {
  const r = await guarded(() => sql<{ n: number }>`select count(*)::int as n from audit_outbox`.execute(db));
  return r.rows[0]?.n ?? 0;
}
