import { Kysely, sql } from 'kysely';

/**
 * Search index tables, one per search parameter type, filled at write time by
 * `fhir/search` (https://hl7.org/fhir/R4/search.html). Every row names the
 * resource it belongs to and the search parameter code; `grp` ties together the
 * rows of one element for composite parameters (0 otherwise). Indexes lead with
 * (resource_type, param, value) so a patient-scoped search starts from the few
 * rows of one patient, and end with resource_id so they cover the semi-join.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const common = (t: string) =>
    db.schema
      .createTable(t)
      .addColumn('resource_type', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('param', 'text', (c) => c.notNull())
      .addColumn('grp', 'integer', (c) => c.notNull().defaultTo(0));

  await common('search_token')
    .addColumn('system', 'text')
    .addColumn('code', 'text')
    .addColumn('text_norm', 'text')
    .execute();
  await common('search_string')
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('value_norm', sql`text collate "C"`, (c) => c.notNull())
    .execute();
  await common('search_date')
    .addColumn('low', 'timestamptz', (c) => c.notNull())
    .addColumn('high', 'timestamptz', (c) => c.notNull())
    .execute();
  await common('search_reference')
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('url', 'text')
    .execute();
  await common('search_number').addColumn('value', 'numeric', (c) => c.notNull()).execute();
  await common('search_quantity')
    .addColumn('value', 'numeric', (c) => c.notNull())
    .addColumn('system', 'text')
    .addColumn('code', 'text')
    .addColumn('unit', 'text')
    .execute();
  await common('search_uri').addColumn('value', sql`text collate "C"`, (c) => c.notNull()).execute();

  for (const t of ['token', 'string', 'date', 'reference', 'number', 'quantity', 'uri']) {
    await sql`create index ${sql.id(`search_${t}_resource`)} on ${sql.id(`search_${t}`)} (resource_type, resource_id)`.execute(db);
  }
  await sql`create index search_token_value on search_token (resource_type, param, code, system, resource_id)`.execute(db);
  await sql`create index search_string_value on search_string (resource_type, param, value_norm, resource_id)`.execute(db);
  await sql`create index search_date_value on search_date (resource_type, param, low, high, resource_id)`.execute(db);
  await sql`create index search_reference_target on search_reference (target_id, param, resource_type, target_type, resource_id)`.execute(db);
  await sql`create index search_reference_url on search_reference (url) where url is not null`.execute(db);
  await sql`create index search_number_value on search_number (resource_type, param, value, resource_id)`.execute(db);
  await sql`create index search_quantity_value on search_quantity (resource_type, param, code, value, resource_id)`.execute(db);
  await sql`create index search_uri_value on search_uri (resource_type, param, value, resource_id)`.execute(db);
  // Keyset paging without _sort walks (resource_type, id) = the primary key of `resource`.

  await db.schema
    .createTable('search_reindex_job')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text')
    .addColumn('after_type', 'text')
    .addColumn('after_id', 'text')
    .addColumn('processed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('total', 'bigint')
    .addColumn('error', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .execute();
}
