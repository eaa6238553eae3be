import { expirePrescription, listDueTasks, releaseLapsedLease, type PrescriptionRow } from '../../repository/prescriptions';
import type { StoreContext as FhirContext } from '../../store/store-context';
import { inTransaction, type Tx } from '../../store/transaction';
import { serverWriter } from '../../store/write/writer';
import { recordPrescriptionEvent, updateMedicationRequestStatus, updateTask } from './records';

/**
 * Time-driven changes, made by the server: an ended validity period expires
 * the prescription (unless a pharmacy still holds a live claim; it expires
 * when that claim ends), and a lapsed lease returns the Task to `ready`.
 * Driven by the database (`for update skip locked`), so any number of
 * processes may run the job at once.
 */
async function applyDue(ctx: FhirContext, tx: Tx, taskId: string, requestId: string): Promise<PrescriptionRow | undefined> {
  const now = ctx.clock.now();
  // The server's own change: audited as the server, whoever's request happened to notice it.
  const writer = serverWriter(requestId);
  const expired = await expirePrescription(tx, { taskId, now });
  if (expired) {
    const reason = `validity period ended ${expired.validityEnd.toISOString()}`;
    await recordPrescriptionEvent(ctx, tx, { row: expired, action: 'expire', from: expired.previousState, to: 'expired', reason });
    await updateTask(ctx, tx, writer, expired, reason);
    await updateMedicationRequestStatus(ctx, tx, writer, expired, 'stopped', reason);
    return expired;
  }
  const released = await releaseLapsedLease(tx, { taskId, now });
  if (released) {
    await recordPrescriptionEvent(ctx, tx, { row: released, action: 'lease-expired', from: 'in-progress', to: 'ready', reason: `claim of ${released.previousOwnerOrg ?? 'a pharmacy'} lapsed` });
    await updateTask(ctx, tx, writer, released);
  }
  return undefined;
}

/** Expires one prescription now if its validity has ended; returns the expired row. */
export function expireOne(ctx: FhirContext, taskId: string, requestId: string): Promise<PrescriptionRow | undefined> {
  return inTransaction(ctx.db, (tx) => applyDue(ctx, tx, taskId, requestId));
}

/** One pass of the job: at most `batch` prescriptions; returns how many were looked at. */
export async function processDuePrescriptions(ctx: FhirContext, batch = 100): Promise<number> {
  return inTransaction(ctx.db, async (tx) => {
    const due = await listDueTasks(tx, ctx.clock.now(), batch);
    for (const taskId of due) await applyDue(ctx, tx, taskId, 'prescription-expiry-job');
    return due.length;
  });
}

export interface BackgroundJob {
  stop(): Promise<void>;
}

/** The periodic in-process job; passes repeat while a full batch was found. */
export function startPrescriptionExpiryJob(ctx: FhirContext, opts: { isShuttingDown?: () => boolean; batch?: number } = {}): BackgroundJob {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = async (): Promise<void> => {
    try {
      const batch = opts.batch ?? 100;
      while (!stopped && !opts.isShuttingDown?.() && (await processDuePrescriptions(ctx, batch)) === batch);
    } catch (err) {
      ctx.logger.warn({ err: { message: (err as Error).message } }, 'prescription expiry pass failed');
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, ctx.config.prescriptionExpiryIntervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
