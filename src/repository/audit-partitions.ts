import { sql } from 'kysely';
import type { Db } from './db';

/**
 * Monthly partitions of `audit_event` (migration 0008): a month's events live in one table, so a
 * date-bounded audit query reads only its months and old months can be archived or dropped whole.
 * Partitions are made ahead of time; an event outside them lands in the default partition, which
 * is never lost, only slower to search.
 */
export function monthsBetween(from: Date, to: Date): Date[] {
  const months: Date[] = [];
  let m = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1));
  while (m <= to) {
    months.push(m);
    m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1));
  }
  return months;
}

export function auditPartitionDdl(month: Date): string {
  const start = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1));
  const end = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
  const name = `audit_event_p${start.getUTCFullYear()}${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
  return `create table if not exists ${name} partition of audit_event for values from ('${start.toISOString()}') to ('${end.toISOString()}')`;
}

/**
 * Makes sure the partitions of last month through `ahead` months from now exist. A month whose
 * events already sit in the default partition (the clock jumped ahead) is left to the default.
 */
export async function ensureAuditPartitions(db: Db, now: Date, ahead = 3): Promise<string[]> {
  const skipped: string[] = [];
  const months = monthsBetween(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)), new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + ahead, 1)));
  for (const month of months) {
    try {
      await sql.raw(auditPartitionDdl(month)).execute(db);
    } catch {
      skipped.push(month.toISOString().slice(0, 7));
    }
  }
  return skipped;
}
