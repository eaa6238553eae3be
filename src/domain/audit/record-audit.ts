import type { AuditEvent } from '@medplum/fhirtypes';
import type { FhirContext } from '../../fhir/context';
import { writeNew, type WrittenVersion } from '../../fhir/persist';
import type { ResourceBody } from '../../fhir/resource-body';
import type { Tx } from '../../repository/transaction';
import { createAuditBatcher, type AuditBatcher } from './audit-batcher';

/**
 * Stores an AuditEvent through the resource write path (versioned, indexed,
 * searchable as `GET /AuditEvent?patient=...`) in the caller's transaction:
 * for writes, the audit and the change commit or fail together.
 */
export async function recordAudit(ctx: FhirContext, tx: Tx, event: AuditEvent): Promise<WrittenVersion> {
  if (event.resourceType !== 'AuditEvent') throw new Error('recordAudit stores AuditEvents only');
  return writeNew(ctx, tx, event as unknown as ResourceBody);
}

const batchers = new WeakMap<object, AuditBatcher>();

/**
 * For requests without a write transaction (reads, searches, refused requests): committed
 * before the request answers, in a transaction shared with concurrent requests (group commit).
 */
export async function recordAuditAlone(ctx: FhirContext, event: AuditEvent): Promise<void> {
  let batcher = batchers.get(ctx.db);
  if (!batcher) {
    batcher = createAuditBatcher(ctx);
    batchers.set(ctx.db, batcher);
  }
  await batcher.record(event);
}
