import type { AuditEvent } from '@medplum/fhirtypes';
import type { FhirContext } from '../../fhir/context';
import { writeNew, type WrittenVersion } from '../../fhir/persist';
import type { ResourceBody } from '../../fhir/resource-body';
import type { Tx } from '../../repository/transaction';
import { isDatabaseUnavailable } from '../../repository/driver-errors';
import { createAuditBatcher, type AuditBatcher } from './audit-batcher';
import { createAuditPromoter, type AuditPromoter } from './audit-promoter';
import { createSpoolTrail, type SpoolTrail } from './audit-spool-trail';

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
  /** Local-disk stand-in while PostgreSQL is unreachable (PostgreSQL only: PGlite runs in the process). */
  spool?: SpoolTrail;
}

/** One trail per database handle, whichever request context reaches it. */
const trails = new WeakMap<object, AuditTrail>();

function trailOf(ctx: FhirContext): AuditTrail {
  let trail = trails.get(ctx.db);
  if (!trail) {
    const promoter = createAuditPromoter(ctx);
    const spool = ctx.config.databaseUrl && ctx.config.dataDir ? createSpoolTrail(ctx, () => promoter.notify()) : undefined;
    trail = { promoter, batcher: createAuditBatcher(ctx, () => promoter.notify()), spool };
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

/**
 * The AuditEvent of a refused or failed request. Like recordAuditAlone, but a refusal is often
 * caused by the database being out of reach, and must leave a trace all the same: then (when
 * `databaseUnavailable` says so, without waiting for a connection that would not come, or when
 * the outbox cannot be written) the event is flushed to the local audit spool in DATA_DIR and
 * moved into the outbox once the database is back.
 */
export async function recordRefusalAudit(ctx: FhirContext, event: AuditEvent, opts: { databaseUnavailable?: boolean } = {}): Promise<void> {
  const trail = trailOf(ctx);
  if (opts.databaseUnavailable && trail.spool) return trail.spool.record(event);
  try {
    await trail.batcher.record(event);
  } catch (err) {
    if (!trail.spool || !isDatabaseUnavailable(err)) throw err;
    await trail.spool.record(event);
  }
}

/** Before reading AuditEvents: every event committed so far becomes readable and searchable. */
export async function drainAuditTrail(ctx: FhirContext): Promise<void> {
  await trailOf(ctx).promoter.drain();
}

/** The server's background promotion (periodic sweep included); returns its stop. */
export function startAuditPromotion(ctx: FhirContext): () => Promise<void> {
  const trail = trailOf(ctx);
  trail.promoter.startSweep();
  trail.spool?.startMoving();
  return async () => {
    await trail.spool?.stop();
    await trail.promoter.stop();
    trails.delete(ctx.db);
  };
}
