import type { Logger } from 'pino';
import type { AuditRow } from '../../repository/audit-events';
import { openAuditSpool, type AuditSpool } from '../../repository/audit-spool';
import type { Db } from '../../repository/db';

/** How often a server process looks for spooled events to move into the audit table. */
const MOVE_INTERVAL_MS = 2000;

/**
 * AuditEvents of refusals while PostgreSQL is out of reach (repository/audit-spool.ts): recorded
 * on local disk, with concurrent requests sharing one write and flush (group commit), and moved
 * into the audit table by a background step once the database answers again.
 */
export interface SpoolTrail {
  record(row: AuditRow): Promise<void>;
  startMoving(): void;
  /** Stops moving; the spool's files stay for the next start. */
  stop(): Promise<void>;
}

interface Pending {
  row: AuditRow;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function createSpoolTrail(deps: { db: Db; logger: Logger; dir: string }): SpoolTrail {
  const spool: AuditSpool = openAuditSpool(deps.dir);
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
        await spool.append(batch.map((p) => p.row));
        deps.logger.warn({ events: batch.length, dir: spool.dir }, 'database unavailable: AuditEvents of refused requests spooled to local disk');
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
      const moved = await spool.moveInto(deps.db);
      if (moved > 0) deps.logger.info({ events: moved }, 'spooled AuditEvents moved into the audit trail');
    })()
      .catch((err: Error) => deps.logger.debug({ err: { message: err.message } }, 'audit spool not moved yet'))
      .finally(() => {
        moving = undefined;
      });
  }

  return {
    record(row) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ row, resolve, reject });
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
      if (await spool.hasPending()) await spool.moveInto(deps.db).catch(() => undefined);
      await spool.close();
    },
  };
}
