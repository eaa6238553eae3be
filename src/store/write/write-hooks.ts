import type { Issue } from '../../errors/fhir-error';
import type { Tx } from '../../repository/transaction';
import type { ResourceBody } from '../resource-body';
import type { Writer } from './writer';

/**
 * Domain steps that run inside the write transaction of every write, whichever path it came by
 * (interaction, Bundle, async job, workflow): registry rules, identity, and the guards that keep
 * workflow-owned resources (a prescription's Task) out of clients' reach.
 */
export interface WriteHook {
  /** May return a changed resource to store instead (e.g. a server-assigned identifier); runs before stamping and indexing. */
  beforeStore?(tx: Tx, resource: ResourceBody, id: string, writer: Writer): Promise<ResourceBody>;
  afterStore?(tx: Tx, resource: ResourceBody & { id: string }, writer: Writer): Promise<void>;
  afterDelete?(tx: Tx, resourceType: string, id: string, writer: Writer): Promise<void>;
}

/** Every check a resource passes before it is stored: core R4 rules, national identifiers, profiles. */
export type ResourceValidator = (resource: ResourceBody, opts?: { pathPrefix?: string }) => Issue[];
