import { sql } from 'kysely';
import type { Db } from './db';
import type { Tx } from './transaction';
import { guarded } from './transaction';

type Executor = Db | Tx;

/** A current, not deleted resource as the identity and registry steps need it. */
export interface CurrentResourceRow {
  resourceType: string;
  id: string;
  content: string;
  deleted: boolean;
  /** True when the row was written by the calling transaction itself (same top-level xid). */
  writtenInThisTransaction: boolean;
}

/**
 * Current versions of many resources in one round trip, keyed `Type/id`.
 * `writtenInThisTransaction` compares the row's `xmin` with the caller's
 * transaction id, so the registry can tell entries that existed before a
 * transaction from ones the same transaction (e.g. a Bundle) just created.
 */
export async function readCurrentResources(
  executor: Executor,
  keys: readonly { resourceType: string; id: string }[],
): Promise<Map<string, CurrentResourceRow>> {
  const out = new Map<string, CurrentResourceRow>();
  if (keys.length === 0) return out;
  return guarded(async () => {
    const rows = await executor
      .selectFrom('resource')
      .select(['resource_type', 'id', 'content', 'deleted'])
      .select(sql<boolean>`(xmin::text::bigint = txid_current_if_assigned() % 4294967296)`.as('fresh'))
      .where((eb) => eb.or(keys.map((k) => eb.and([eb('resource_type', '=', k.resourceType), eb('id', '=', k.id)]))))
      .execute();
    for (const r of rows) {
      out.set(`${r.resource_type}/${r.id}`, {
        resourceType: r.resource_type,
        id: r.id,
        content: r.content,
        deleted: r.deleted,
        writtenInThisTransaction: r.fresh === true,
      });
    }
    return out;
  });
}
