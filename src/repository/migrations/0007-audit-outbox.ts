import { Kysely, sql } from 'kysely';

/**
 * The audit trail's durable intake. A read's AuditEvent is committed here (one narrow row, no
 * search index) before the read answers; a background step moves rows in large batches into
 * the resource store with their history and search index rows, and AuditEvent reads move
 * whatever is pending first. Storing each event as an indexed resource on the request path
 * cost most of a read's time (one resource, one history and ~16 index rows per event).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table audit_outbox (
      seq bigserial primary key,
      id text not null,
      last_updated timestamptz not null,
      content text not null
    )`.execute(db);
}
