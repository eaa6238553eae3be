import type { AuditEvent } from '@medplum/fhirtypes';
import type { FhirContext } from '../../fhir/context';
import { auditSpoolDir, openAuditSpool, type AuditSpool } from '../../repository/audit-spool';
import { toOutboxEvents } from './audit-batcher';

/** How often a server process looks for spooled events to move into the outbox. */
const MOVE_INTERVAL_MS = 2000;

/**
 * AuditEvents of refusals while PostgreSQL is out of reach (repository/audit-spool.ts): recorded
 * on local disk, with concurrent requests sharing one write and flush (group commit, as the
 * outbox), and moved into the outbox by a background step once the database answers again.
 */
export interface SpoolTrail {
  record(event: AuditEvent): Promise<void>;
  startMoving(): void;
  /** Stops moving; the spool's files stay for the next start. */
  stop(): Promise<void>;
}

interface Pending {
  event: AuditEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function createSpoolTrail(ctx: Pick<FhirContext, 'db' | 'ids' | 'clock' | 'config' | 'search' | 'logger'>, afterMove: () => void): SpoolTrail {
  const spool: AuditSpool = openAuditSpool(auditSpoolDir(ctx.config.dataDir, ctx.config.databaseUrl!));
  let queue: Pending[] = [];
  let flushing = false;
  let timer: NodeJS.Timeout | undefined;
  let moving: Promise<void> | undefined;
  let stopped = false;

  async function flush(): Promise<void> {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await spool.append(toOutboxEvents(ctx, batch.map((p) => p.event)));
        ctx.logger.warn({ events: batch.length, dir: spool.dir }, 'database unavailable: AuditEvents of refused requests spooled to local disk');
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    flushing = false;
  }

  function move(): void {
    if (moving || stopped) return;
    moving = (async () => {
      if (!(await spool.hasPending())) return;
      const moved = await spool.moveInto(ctx.db);
      if (moved > 0) {
        ctx.logger.info({ events: moved }, 'spooled AuditEvents moved into the audit outbox');
        afterMove();
      }
    })()
      .catch((err: Error) => ctx.logger.debug({ err: { message: err.message } }, 'audit spool not moved yet'))
      .finally(() => {
        moving = undefined;
      });
  }

  return {
    record(event) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ event, resolve, reject });
        if (!flushing) void flush();
      });
    },
    startMoving() {
      if (timer || stopped) return;
      timer = setInterval(move, MOVE_INTERVAL_MS);
      timer.unref();
      move();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await moving;
      // A last attempt, so that a clean shutdown after an outage leaves nothing behind.
      if (await spool.hasPending()) await spool.moveInto(ctx.db).then(afterMove, () => undefined);
      await spool.close();
    },
  };
}
