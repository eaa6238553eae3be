import { insertAuditRows, type AuditRow } from '../../repository/audit-events';
import type { Db } from '../../repository/db';
import { isDatabaseUnavailable } from '../../repository/driver-errors';
import type { Tx } from '../../repository/transaction';
import type { IdGenerator } from '../../shared/ids';
import { toAuditRow, type AuditInput } from './audit-input';
import type { SpoolTrail } from './audit-spool-trail';

/**
 * Where AuditEvents are recorded. A write's events go in the write's own transaction (the change
 * and its audit commit or fail together). Everything else — reads, searches, refusals, failures —
 * is committed before the request answers (no access goes unrecorded, and a failed audit fails
 * the request), in a write shared by concurrent requests: a group commit, one INSERT of narrow
 * rows for the whole batch. At most one flush runs at a time; events arriving meanwhile form the
 * next batch, so a lone request adds no delay.
 */
export interface AuditTrail {
  /** Records events inside a write transaction. */
  recordInTransaction(tx: Tx, inputs: AuditInput[]): Promise<AuditRow[]>;
  /** Records an event on its own, committed (group commit) before this resolves. */
  record(input: AuditInput): Promise<void>;
  /**
   * The event of a refused or failed request. A refusal is often caused by the database being out
   * of reach and must leave a trace all the same: then (when `databaseUnavailable` says so, without
   * waiting for a connection that would not come, or when the table cannot be written) the event is
   * flushed to the local audit spool and moved in once the database is back.
   */
  recordRefusal(input: AuditInput, opts?: { databaseUnavailable?: boolean }): Promise<void>;
}

export interface AuditTrailDeps {
  db: Db;
  ids: IdGenerator;
  /** `durable`: wait for the WAL flush before answering; `fast`: committed without waiting for it. */
  readCommit: 'durable' | 'fast';
  /** Local-disk stand-in while PostgreSQL is unreachable (PostgreSQL with a DATA_DIR only). */
  spool?: SpoolTrail;
}

interface Pending {
  row: AuditRow;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Most events per flush; a burst beyond it is written by the next flush at once. */
const MAX_BATCH = 500;

export function createAuditTrail(deps: AuditTrailDeps): AuditTrail {
  let queue: Pending[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      try {
        await insertAuditRows(deps.db, batch.map((p) => p.row), { waitForFlush: deps.readCommit === 'durable' });
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    flushing = false;
  }

  function record(input: AuditInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      queue.push({ row: toAuditRow(input, deps.ids.newId()), resolve, reject });
      if (!flushing) void flush();
    });
  }

  return {
    async recordInTransaction(tx, inputs) {
      const rows = inputs.map((input) => toAuditRow(input, deps.ids.newId()));
      await insertAuditRows(tx, rows, { waitForFlush: true, inTx: true });
      return rows;
    },
    record,
    async recordRefusal(input, opts = {}) {
      if (opts.databaseUnavailable && deps.spool) return deps.spool.record(toAuditRow(input, deps.ids.newId()));
      try {
        await record(input);
      } catch (err) {
        if (!deps.spool || !isDatabaseUnavailable(err)) throw err;
        await deps.spool.record(toAuditRow(input, deps.ids.newId()));
      }
    },
  };
}
