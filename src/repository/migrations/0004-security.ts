import { Kysely, sql } from 'kysely';

/**
 * Security state shared by every server process: the client registry, the
 * server's signing keys, the client-assertion replay store, and rate-limit
 * windows.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('auth_client')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('organization', 'text')
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('jwks', 'text')
    .addColumn('jwks_uri', 'text')
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint(
      'auth_client_role',
      sql`role in ('hospital', 'prescriber', 'pharmacy', 'laboratory', 'registry-admin', 'analyst', 'auditor', 'patient')`,
    )
    .addCheckConstraint('auth_client_keys', sql`jwks is not null or jwks_uri is not null`)
    .execute();

  await db.schema
    .createTable('auth_signing_key')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('auth_signing_key_created').on('auth_signing_key').column('created_at').execute();

  // The primary key makes "first use wins" atomic across processes.
  await db.schema
    .createTable('auth_assertion_jti')
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('jti', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('auth_assertion_jti_pk', ['client_id', 'jti'])
    .execute();
  await db.schema.createIndex('auth_assertion_jti_expiry').on('auth_assertion_jti').column('expires_at').execute();

  await db.schema
    .createTable('rate_limit_window')
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limit_window_pk', ['client_id', 'window_start'])
    .execute();
}
