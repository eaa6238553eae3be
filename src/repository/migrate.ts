import { Migrator } from 'kysely/migration';
import type { Db } from './db';
import { migrationProvider } from './migrations';

/**
 * Brings the schema up to date. Kysely's Migrator takes a row lock on its lock
 * table, so two processes starting at once run each migration exactly once.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
