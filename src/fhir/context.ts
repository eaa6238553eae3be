import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { Clock } from '../shared/clock';
import type { IdGenerator } from '../shared/ids';
import type { Db } from '../repository/db';
import type { Issue } from '../errors/fhir-error';
import type { Tx } from '../repository/transaction';
import type { SearchEngine } from './search/engine';

/** Domain steps that run inside the write transaction (registries, identity, ...). */
export interface WriteHook {
  /** May return a changed resource to store instead (e.g. a server-assigned identifier); runs before stamping and indexing. */
  beforeStore?(tx: Tx, resource: { resourceType: string } & Record<string, unknown>, id: string): Promise<{ resourceType: string } & Record<string, unknown>>;
  afterStore?(tx: Tx, resource: { resourceType: string; id: string } & Record<string, unknown>): Promise<void>;
  afterDelete?(tx: Tx, resourceType: string, id: string): Promise<void>;
}

/** Every check a resource passes before it is stored: core R4 rules, national identifiers, profiles. */
export type ResourceValidator = (resource: { resourceType: string } & Record<string, unknown>, opts?: { pathPrefix?: string }) => Issue[];

/** What every FHIR interaction may use; wired once in `app.ts`. */
export interface FhirContext {
  db: Db;
  config: Config;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  search: SearchEngine;
  validate: ResourceValidator;
  writeHooks: WriteHook[];
  /**
   * Per request (set by the adapter): records the AuditEvent of a write inside
   * the write's own transaction, so the change and its audit commit together.
   */
  auditWrite?: AuditWrite;
}

export interface AuditedWrite {
  resourceType: string;
  id?: string;
  versionId?: string;
  patientIds: string[];
}

export type AuditWrite = (tx: Tx, write: AuditedWrite) => Promise<void>;
