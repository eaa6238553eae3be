import { Kysely } from 'kysely';

/**
 * One row per national identifier of an active Patient. The unique key is what
 * makes "one patient per national identifier" hold under concurrency.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('patient_national_id')
    .addColumn('system', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('patient_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('patient_national_id_pk', ['system', 'value'])
    .execute();
  await db.schema.createIndex('patient_national_id_patient').on('patient_national_id').column('patient_id').execute();
}
