import type { Transaction } from 'kysely';
import type { Db } from './db';
import { isRetryable, mapDriverError } from './driver-errors';
import type { Database } from './schema';

export type Tx = Transaction<Database>;

/**
 * Runs `fn` in one database transaction. Serialization failures and deadlocks
 * are retried a bounded number of times; after that they surface as 503, never
 * as success for data that was not stored.
 */
export async function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(fn);
    } catch (err) {
      if (isRetryable(err) && attempt < attempts) {
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
        continue;
      }
      throw mapDriverError(err);
    }
  }
}

/** Wraps a read so driver failures become typed errors. */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapDriverError(err);
  }
}
