import { CompiledQuery, sql } from 'kysely';
import type { Db } from './db';
import type { Tx } from './transaction';
import { guarded } from './transaction';

/** A stored version of a resource, as the repository hands it upward. */
export interface StoredVersion {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
  deleted: boolean;
  /** Null only for a delete marker in history. */
  content: string | null;
}

export interface WriteVersionInput {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
  deleted: boolean;
  /** Serialised resource; for a delete, the last content before deletion. */
  content: string;
  method: 'create' | 'update' | 'delete';
}

type Executor = Db | Tx;

export function toStored(row: {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: Date | string;
  deleted: boolean;
  content: string | null;
}): StoredVersion {
  return {
    resourceType: row.resource_type,
    id: row.id,
    versionId: row.version_id,
    lastUpdated: row.last_updated instanceof Date ? row.last_updated : new Date(row.last_updated),
    deleted: row.deleted,
    content: row.content,
  };
}

type CurrentRow = Parameters<typeof toStored>[0];
/** The most frequent statement of all, written once instead of built by the query builder per read. */
const READ_CURRENT_SQL = 'select resource_type, id, version_id, last_updated, deleted, content from resource where resource_type = $1 and id = $2';

/** https://hl7.org/fhir/R4/http.html#read */
export async function readCurrent(db: Executor, resourceType: string, id: string): Promise<StoredVersion | undefined> {
  return guarded(async () => {
    const result = await db.executeQuery<CurrentRow>(CompiledQuery.raw(READ_CURRENT_SQL, [resourceType, id]));
    const row = result.rows[0];
    return row && toStored(row);
  });
}

/** The current row locked for the rest of the transaction (compare-and-set writes). */
export async function lockCurrent(tx: Tx, resourceType: string, id: string): Promise<StoredVersion | undefined> {
  const row = await tx
    .selectFrom('resource')
    .select(['resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'content'])
    .where('resource_type', '=', resourceType)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row && toStored(row);
}

/** https://hl7.org/fhir/R4/http.html#vread */
export async function readVersion(
  db: Executor,
  resourceType: string,
  id: string,
  versionId: number,
): Promise<StoredVersion | undefined> {
  return guarded(async () => {
    const row = await db
      .selectFrom('resource_history')
      .select(['resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'content'])
      .where('resource_type', '=', resourceType)
      .where('id', '=', id)
      .where('version_id', '=', versionId)
      .executeTakeFirst();
    return row && toStored(row);
  });
}

/**
 * Inserts version 1 of a new resource. Returns false, writing nothing, when the
 * id is already taken (the caller decides whether that is an update or a clash).
 */
export async function insertFirstVersion(tx: Tx, v: WriteVersionInput): Promise<boolean> {
  const inserted = await tx
    .insertInto('resource')
    .values({
      resource_type: v.resourceType,
      id: v.id,
      version_id: v.versionId,
      last_updated: v.lastUpdated,
      deleted: v.deleted,
      content: v.content,
    })
    .onConflict((oc) => oc.columns(['resource_type', 'id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return false;
  await insertHistory(tx, v);
  return true;
}

/**
 * Replaces the current version only if it is still `expectedVersion`
 * (compare-and-set); returns false when another writer got there first.
 */
export async function replaceVersion(tx: Tx, v: WriteVersionInput, expectedVersion: number): Promise<boolean> {
  const updated = await tx
    .updateTable('resource')
    .set({ version_id: v.versionId, last_updated: v.lastUpdated, deleted: v.deleted, content: v.content })
    .where('resource_type', '=', v.resourceType)
    .where('id', '=', v.id)
    .where('version_id', '=', expectedVersion)
    .returning('id')
    .executeTakeFirst();
  if (!updated) return false;
  await insertHistory(tx, v);
  return true;
}

async function insertHistory(tx: Tx, v: WriteVersionInput): Promise<void> {
  await tx
    .insertInto('resource_history')
    .values({
      resource_type: v.resourceType,
      id: v.id,
      version_id: v.versionId,
      last_updated: v.lastUpdated,
      deleted: v.deleted,
      method: v.method,
      content: v.deleted ? null : v.content,
    })
    .execute();
}

export interface HistoryQuery {
  resourceType?: string;
  /** System history limited to these types (the ones the caller may read). */
  types?: string[];
  id?: string;
  since?: Date;
  at?: Date;
  count: number;
  /** Keyset cursor: continue strictly below this history sequence number. */
  beforeSeq?: string;
}

export interface HistoryPage {
  entries: (StoredVersion & { method: string; seq: string })[];
  hasMore: boolean;
}

/** https://hl7.org/fhir/R4/http.html#history — newest first, keyset paged. */
export async function readHistory(db: Executor, q: HistoryQuery): Promise<HistoryPage> {
  return guarded(async () => {
    let query = db
      .selectFrom('resource_history')
      .select(['resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'content', 'method', 'seq'])
      .orderBy('seq', 'desc')
      .limit(q.count + 1);
    if (q.resourceType) query = query.where('resource_type', '=', q.resourceType);
    if (q.types) query = query.where('resource_type', 'in', q.types);
    if (q.id) query = query.where('id', '=', q.id);
    if (q.since) query = query.where('last_updated', '>=', q.since);
    if (q.at) query = query.where('last_updated', '<=', q.at);
    if (q.beforeSeq) query = query.where('seq', '<', q.beforeSeq);
    const rows = await query.execute();
    const hasMore = rows.length > q.count;
    return {
      entries: rows.slice(0, q.count).map((r) => ({ ...toStored(r), method: r.method, seq: String(r.seq) })),
      hasMore,
    };
  });
}

/** Serialises concurrent work on one key (e.g. one conditional-create criteria) until commit. */
export async function lockKey(tx: Tx, key: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(tx);
}
