import { Kysely, sql } from 'kysely';

/** Current versions and full history of every resource, of every type, in two tables. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('resource')
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('version_id', 'integer', (c) => c.notNull())
    .addColumn('last_updated', 'timestamptz', (c) => c.notNull())
    .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('content', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('resource_pk', ['resource_type', 'id'])
    .execute();

  await db.schema
    .createTable('resource_history')
    .addColumn('seq', 'bigserial', (c) => c.notNull().unique())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('version_id', 'integer', (c) => c.notNull())
    .addColumn('last_updated', 'timestamptz', (c) => c.notNull())
    .addColumn('deleted', 'boolean', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('content', 'text')
    .addPrimaryKeyConstraint('resource_history_pk', ['resource_type', 'id', 'version_id'])
    .execute();

  await db.schema
    .createIndex('resource_history_type_time')
    .on('resource_history')
    .columns(['resource_type', 'last_updated', 'seq'])
    .execute();
  await db.schema.createIndex('resource_history_time').on('resource_history').columns(['last_updated', 'seq']).execute();
  await sql`create index resource_type_updated on resource (resource_type, last_updated)`.execute(db);
}
