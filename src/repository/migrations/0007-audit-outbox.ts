import { Kysely, sql } from 'kysely';

/**
 * The audit trail's durable intake. A read's AuditEvent is committed here (one narrow row with
 * its search index rows as JSON, no index of its own) before the read answers; a background step
 * moves rows in large batches into the resource store, history and search index tables in one
 * SQL statement, and AuditEvent reads move whatever is pending first. Storing each event as an
 * indexed resource on the request path cost most of a read's time (one resource, one history
 * and ~16 index rows across four tables per event).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table audit_outbox (
      seq bigserial primary key,
      id text not null,
      last_updated timestamptz not null,
      content text not null,
      index_rows json not null
    )`.execute(db);
}
