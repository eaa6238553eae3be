import type { Migration, MigrationProvider } from 'kysely/migration';
import * as m0001 from './0001-resources';
import * as m0002 from './0002-search-index';
import * as m0003 from './0003-bundles';
import * as m0004 from './0004-security';
import * as m0005 from './0005-patient-identity';
import * as m0006 from './0006-prescriptions';
import * as m0007 from './0007-audit-outbox';
import * as m0008 from './0008-audit-store';
import * as m0009 from './0009-operator-role';

/**
 * Numbered, forward-only migrations, listed in code so they ship inside the
 * compiled build. Never edit one that has landed; add the next number.
 */
const migrations: Record<string, Migration> = {
  '0001-resources': m0001,
  '0002-search-index': m0002,
  '0003-bundles': m0003,
  '0004-security': m0004,
  '0005-patient-identity': m0005,
  '0006-prescriptions': m0006,
  '0007-audit-outbox': m0007,
  '0008-audit-store': m0008,
  '0009-operator-role': m0009,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
