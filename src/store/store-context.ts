import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { Db } from '../repository/db';
import type { Clock } from '../shared/clock';
import type { IdGenerator } from '../shared/ids';
import type { AuditTrail } from './audit/audit-trail';
import type { ResourceValidator, WriteHook } from './write/write-hooks';

/**
 * What the store's functions work with, wired once in `app.ts` (the composition root): the
 * database, the validator every write passes, the domain's write hooks, and the audit trail.
 * Workflows (domain/) and FHIR interactions (fhir/) receive it; nothing in it is per request —
 * who is asking travels as an explicit AccessScope (reads) or Writer (writes).
 */
export interface StoreContext {
  db: Db;
  config: Config;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  validate: ResourceValidator;
  writeHooks: WriteHook[];
  audit: AuditTrail;
}
