import { sql } from 'kysely';
import type { Db } from './db';
import { inTransaction, type Tx } from './transaction';

export interface RateLimitWindowRow {
  client_id: string;
  window_start: Date | string;
  count: number;
}

export type RateLimitTables = {
  rate_limit_window: RateLimitWindowRow;
};

/**
 * Adds `by` requests to the client's fixed window and returns the new count;
 * one upsert, so concurrent processes never lose an increment.
 */
export async function incrementWindow(db: Db, clientId: string, windowStart: Date, by = 1): Promise<number> {
  // Counted on every request: not worth an fsync each. A crash may forget the last few
  // increments of a one-minute window, which only errs in the client's favour.
  return inTransaction(db, async (tx) => {
    await sql`set local synchronous_commit = off`.execute(tx);
    return increment(tx, clientId, windowStart, by);
  });
}

async function increment(db: Db | Tx, clientId: string, windowStart: Date, by: number): Promise<number> {
  const row = await db
    .withTables<RateLimitTables>()
    .insertInto('rate_limit_window')
    .values({ client_id: clientId, window_start: windowStart, count: by })
    .onConflict((oc) => oc.columns(['client_id', 'window_start']).doUpdateSet((eb) => ({ count: eb('rate_limit_window.count', '+', by) })))
    .returning('count')
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function deleteWindowsBefore(db: Db, clientId: string, before: Date): Promise<void> {
  await db.withTables<RateLimitTables>().deleteFrom('rate_limit_window').where('client_id', '=', clientId).where('window_start', '<', before).execute();
}
