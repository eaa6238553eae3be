import type { FhirContext } from '../../fhir/context';
import { hasPendingAuditEvents, promoteAuditOutbox } from '../../repository/audit-outbox';

/** Events per promotion transaction: large batches are what makes promotion cheap per event. */
const PROMOTE_LIMIT = 1000;
/**
 * After an append, wait this long so that many requests' events are promoted together: each
 * promotion costs four round trips whatever its size. Nothing waits for it (AuditEvent reads
 * drain the outbox themselves).
 */
const PROMOTE_DELAY_MS = 500;
/** Sweep for events left by other processes (node:cluster workers) or by a crash. */
const SWEEP_INTERVAL_MS = 5000;

/**
 * Moves AuditEvents from the outbox into the resource store (see repository/audit-outbox.ts):
 * soon after they are appended, in the background, and on demand before anything reads
 * AuditEvents (`drain`), so a search of the trail always includes every committed event.
 */
export interface AuditPromoter {
  /** Events were appended: promote them soon. */
  notify(): void;
  /** Promotes everything committed to the outbox before the call, waiting for other promoters. */
  drain(): Promise<void>;
  /** Starts the periodic sweep (the server does; a bare context need not). */
  startSweep(): void;
  /** Stops timers and waits for a running promotion; pending events stay in the outbox. */
  stop(): Promise<void>;
}

export function createAuditPromoter(ctx: Pick<FhirContext, 'db' | 'logger'>): AuditPromoter {
  let timer: NodeJS.Timeout | undefined;
  let sweep: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function promoteAll(wait: boolean): Promise<void> {
    for (;;) {
      const r = await promoteAuditOutbox(ctx.db, { wait, limit: PROMOTE_LIMIT });
      if (!r.ran || r.promoted < PROMOTE_LIMIT) return;
    }
  }

  function background(): void {
    timer = undefined;
    if (stopped || running) return;
    running = promoteAll(false)
      .catch((err: Error) => ctx.logger.warn({ err: { message: err.message } }, 'audit promotion failed; the events stay in the outbox and are retried'))
      .finally(() => {
        running = undefined;
      });
  }

  return {
    notify() {
      if (stopped || timer) return;
      timer = setTimeout(background, PROMOTE_DELAY_MS);
      timer.unref();
    },
    async drain() {
      if (await hasPendingAuditEvents(ctx.db)) await promoteAll(true);
    },
    startSweep() {
      if (sweep || stopped) return;
      sweep = setInterval(background, SWEEP_INTERVAL_MS);
      sweep.unref();
      background();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (sweep) clearInterval(sweep);
      timer = sweep = undefined;
      await running;
    },
  };
}
