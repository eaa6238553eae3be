import type { Logger } from 'pino';
import { ensureAuditPartitions } from '../../repository/audit-partitions';
import type { Db } from '../../repository/db';
import type { Clock } from '../../shared/clock';

const EVERY_MS = 6 * 3600_000;

/**
 * Keeps the audit table's monthly partitions made ahead of time: at start and every few hours,
 * so events never land in the default partition. Any process may run it; creating a partition
 * that exists is a no-op.
 */
export function keepAuditPartitions(db: Db, clock: Clock, logger: Logger): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = ensureAuditPartitions(db, clock.now())
      .then((skipped) => {
        if (skipped.length) logger.warn({ months: skipped }, 'audit partitions not created (events of those months are in the default partition)');
      })
      .catch((err: Error) => logger.warn({ err: { message: err.message } }, 'audit partition maintenance failed; retried later'));
  };
  run();
  const timer = setInterval(run, EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
