import { Kysely, sql } from 'kysely';

/**
 * Tables for transaction/batch Bundles (issue 4):
 * - `idempotency_key`: one row per (scope, key); the primary key is what makes
 *   concurrent retries with the same Idempotency-Key safe across processes.
 * - `bundle_job`: the durable queue of `Prefer: respond-async` Bundles, claimed
 *   with `FOR UPDATE SKIP LOCKED` and leased so a dead worker's job is reclaimed.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('idempotency_key')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('claim_token', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'timestamptz', (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('headers', 'text')
    .addColumn('body', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_key_pk', ['scope', 'key'])
    .execute();
  await sql`create index idempotency_key_expires on idempotency_key (expires_at)`.execute(db);

  await db.schema
    .createTable('bundle_job')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('entry_count', 'integer', (c) => c.notNull())
    .addColumn('progress', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('claim_token', 'text')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('cancel_requested', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('result_status', 'integer')
    .addColumn('result_headers', 'text')
    .addColumn('result_body', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .execute();
  await sql`create index bundle_job_claimable on bundle_job (created_at) where status in ('queued', 'running')`.execute(db);
}
