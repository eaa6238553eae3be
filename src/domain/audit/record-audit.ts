import type { AuditEvent } from '@medplum/fhirtypes';
import type { FhirContext } from '../../fhir/context';
import { writeNew, type WrittenVersion } from '../../fhir/persist';
import type { ResourceBody } from '../../fhir/resource-body';
import type { Tx } from '../../repository/transaction';
import { createAuditBatcher, type AuditBatcher } from './audit-batcher';
import { createAuditPromoter, type AuditPromoter } from './audit-promoter';

/**
 * Stores an AuditEvent through the resource write path (versioned, indexed,
 * searchable as `GET /AuditEvent?patient=...`) in the caller's transaction:
 * for writes, the audit and the change commit or fail together.
 */
export async function recordAudit(ctx: FhirContext, tx: Tx, event: AuditEvent): Promise<WrittenVersion> {
  if (event.resourceType !== 'AuditEvent') throw new Error('recordAudit stores AuditEvents only');
  return writeNew(ctx, tx, event as unknown as ResourceBody);
}

interface AuditTrail {
  batcher: AuditBatcher;
  promoter: AuditPromoter;
}

/** One trail per database handle, whichever request context reaches it. */
const trails = new WeakMap<object, AuditTrail>();

function trailOf(ctx: FhirContext): AuditTrail {
  let trail = trails.get(ctx.db);
  if (!trail) {
    const promoter = createAuditPromoter(ctx);
    trail = { promoter, batcher: createAuditBatcher(ctx, () => promoter.notify()) };
    trails.set(ctx.db, trail);
  }
  return trail;
}

/**
 * For requests without a write transaction (reads, searches, refused requests): committed
 * (to the audit outbox) before the request answers, in a write shared with concurrent
 * requests (group commit).
 */
export async function recordAuditAlone(ctx: FhirContext, event: AuditEvent): Promise<void> {
  await trailOf(ctx).batcher.record(event);
}

/** Before reading AuditEvents: every event committed so far becomes readable and searchable. */
export async function drainAuditTrail(ctx: FhirContext): Promise<void> {
  await trailOf(ctx).promoter.drain();
}

/** The server's background promotion (periodic sweep included); returns its stop. */
export function startAuditPromotion(ctx: FhirContext): () => Promise<void> {
  const trail = trailOf(ctx);
  trail.promoter.startSweep();
  return async () => {
    await trail.promoter.stop();
    trails.delete(ctx.db);
  };
}
