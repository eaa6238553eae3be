import type { AuditEvent } from '@medplum/fhirtypes';
import type { FhirContext } from '../../fhir/context';
import { stampResource, type ResourceBody } from '../../fhir/resource-body';
import { appendToAuditOutbox, type OutboxEvent } from '../../repository/audit-outbox';
import { stringifyJson } from '../../shared/json';

interface Pending {
  event: AuditEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Most AuditEvents per flush; a burst beyond it is written by the next flush at once. */
const MAX_BATCH = 500;

/**
 * Group commit for the AuditEvents of reads, searches and refused requests. Each request
 * still waits until its AuditEvent is committed (no access goes unrecorded, and a failed audit
 * fails the request), but concurrent requests share one write: a single INSERT of narrow rows
 * (the event and its search index rows) into the audit outbox, promoted into the resource store later (./audit-promoter.ts). At most
 * one flush runs at a time; events arriving meanwhile form the next batch, so a lone request
 * adds no delay. `afterFlush` is told when events have been committed.
 */
export interface AuditBatcher {
  record(event: AuditEvent): Promise<void>;
}

/** AuditEvents as outbox rows: id and meta stamped, index rows extracted now (so that promotion is SQL alone). */
export function toOutboxEvents(ctx: Pick<FhirContext, 'ids' | 'clock' | 'search'>, events: AuditEvent[]): OutboxEvent[] {
  const lastUpdated = ctx.clock.now();
  const stamped = events.map((e) => stampResource(e as unknown as ResourceBody, ctx.ids.newId(), 1, lastUpdated) as ResourceBody & { id: string });
  const index = ctx.search.indexRowsOf(stamped);
  return stamped.map((r, i) => ({ id: r.id, lastUpdated, content: stringifyJson(r), index: index[i].rows }));
}

export function createAuditBatcher(ctx: Pick<FhirContext, 'db' | 'ids' | 'clock' | 'config' | 'search'>, afterFlush: () => void): AuditBatcher {
  let queue: Pending[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      try {
        const events = toOutboxEvents(ctx, batch.map((p) => p.event));
        await appendToAuditOutbox(ctx.db, events, { waitForFlush: ctx.config.auditReadCommit === 'durable' });
        for (const p of batch) p.resolve();
        afterFlush();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    flushing = false;
  }

  return {
    record(event) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ event, resolve, reject });
        if (!flushing) void flush();
      });
    },
  };
}
