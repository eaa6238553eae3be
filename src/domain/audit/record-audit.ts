import type { AuditEvent } from '@medplum/fhirtypes';
import type { FhirContext } from '../../fhir/context';
import { writeNew, type WrittenVersion } from '../../fhir/persist';
import type { ResourceBody } from '../../fhir/resource-body';
import { inTransaction, type Tx } from '../../repository/transaction';

/**
 * Stores an AuditEvent through the resource write path (versioned, indexed,
 * searchable as `GET /AuditEvent?patient=...`) in the caller's transaction:
 * for writes, the audit and the change commit or fail together.
 */
export async function recordAudit(ctx: FhirContext, tx: Tx, event: AuditEvent): Promise<WrittenVersion> {
  if (event.resourceType !== 'AuditEvent') throw new Error('recordAudit stores AuditEvents only');
  return writeNew(ctx, tx, event as unknown as ResourceBody);
}

/** For requests without a write transaction (reads, searches, refused requests): its own transaction. */
export async function recordAuditAlone(ctx: FhirContext, event: AuditEvent): Promise<WrittenVersion> {
  return inTransaction(ctx.db, (tx) => recordAudit(ctx, tx, event));
}
