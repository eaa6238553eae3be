import { CompiledQuery, sql } from 'kysely';
import type { Db } from './db';
import { INDEX_VALUE_COLUMNS } from './search-index';
import type { IndexRows } from './search-schema';
import { guarded, inTransaction } from './transaction';

/**
 * The audit trail's intake (migration 0007): AuditEvents are appended as narrow rows carrying
 * their search index rows, then moved ("promoted") in batches into the resource store, history
 * and index tables. Delete-from-outbox and insert-into-store are one statement, so an event is
 * in exactly one of the two at any time, whatever crashes.
 */

export interface OutboxEvent {
  id: string;
  /** Its meta.lastUpdated. */
  lastUpdated: Date;
  /** The AuditEvent as it will be served: id and meta (versionId 1) already set. */
  content: string;
  /** Its search index rows, as the search layer extracted them. */
  index: IndexRows;
}

/**
 * One statement and ONE parameter whatever the number of events: a JSON array, taken apart by
 * PostgreSQL (the driver would otherwise escape every character of every event into an array
 * literal).
 */
export async function appendToAuditOutbox(db: Db, events: OutboxEvent[], opts: { waitForFlush: boolean }): Promise<void> {
  if (events.length === 0) return;
  const payload = JSON.stringify(events.map((e) => ({ id: e.id, lastUpdated: e.lastUpdated.toISOString(), content: e.content, index: e.index })));
  const insert = sql`insert into audit_outbox (id, last_updated, content, index_rows)
    select e->>'id', (e->>'lastUpdated')::timestamptz, e->>'content', e->'index' from json_array_elements(${payload}::json) as e`;
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

/** Oldest events first: resource, history and index rows inserted from the deleted outbox rows, all in SQL. */
const PROMOTE_SQL = (() => {
  const indexCtes = Object.entries(INDEX_VALUE_COLUMNS).map(([table, columns]) => {
    const names = columns.map(([name]) => name);
    const typed = columns.map(([name, type]) => `${name} ${type}`).join(', ');
    return `i_${table} as (insert into search_${table} (resource_type, resource_id, param, grp, ${names.join(', ')})
      select 'AuditEvent', m.id, x.param, x.grp, ${names.map((n) => `x.${n}`).join(', ')}
      from moved m cross join lateral json_to_recordset(m.index_rows->'${table}') as x(param text, grp int, ${typed}))`;
  });
  return `with moved as (
      delete from audit_outbox where seq in (select seq from audit_outbox order by seq limit $1)
      returning id, last_updated, content, index_rows),
    r as (insert into resource (resource_type, id, version_id, last_updated, deleted, content)
      select 'AuditEvent', id, 1, last_updated, false, content from moved),
    h as (insert into resource_history (resource_type, id, version_id, last_updated, deleted, method, content)
      select 'AuditEvent', id, 1, last_updated, false, 'create', content from moved),
    ${indexCtes.join(',\n    ')}
    select count(*)::int as n from moved`;
})();

export interface PromotionResult {
  /** Events moved into the resource store. */
  promoted: number;
  /** False when `wait` was off and another promoter held the lock. */
  ran: boolean;
}

/**
 * Moves up to `limit` of the oldest pending events into the resource store. With `wait`, waits
 * for a promoter running elsewhere to finish first, so that everything appended before the
 * call is promoted by the time a loop of these returns fewer than `limit` (what AuditEvent reads
 * rely on).
 */
export async function promoteAuditOutbox(db: Db, opts: { wait: boolean; limit: number }): Promise<PromotionResult> {
  return inTransaction(db, async (tx) => {
    // The rows are already durable: losing this commit in a crash only leaves them in the
    // outbox to be promoted again, so it need not wait for the WAL flush.
    const noFlush = sql`set_config('synchronous_commit', 'off', true)`;
    if (opts.wait) await sql`select pg_advisory_xact_lock(${PROMOTION_LOCK}), ${noFlush}`.execute(tx);
    else {
      const got = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${PROMOTION_LOCK}) as ok, ${noFlush}`.execute(tx);
      if (!got.rows[0]?.ok) return { promoted: 0, ran: false };
    }
    const moved = await tx.executeQuery<{ n: number }>(CompiledQuery.raw(PROMOTE_SQL, [opts.limit]));
    return { promoted: moved.rows[0]?.n ?? 0, ran: true };
  });
}

/**
 * Whether any event awaits promotion. An event is visible either here or in the resource store
 * (promotion moves it in one statement), so "none" means every committed event is searchable.
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
