import type { WriteVersionInput } from './resources';
import type { Tx } from './transaction';

/**
 * Multi-row inserts of new resources: one statement for `resource` and one for
 * `resource_history` per chunk, instead of two round trips per resource. The
 * chunk keeps each statement well under PostgreSQL's 65,535 bind parameters.
 */
const ROWS_PER_STATEMENT = 4000;

/**
 * Inserts version 1 of every input. Returns the keys (`Type/id`) that were
 * already taken; for those nothing is written (the caller decides: a clash of
 * generated ids is a conflict). History rows are written only for inserted rows.
 */
export async function insertNewVersions(tx: Tx, versions: WriteVersionInput[]): Promise<string[]> {
  const taken: string[] = [];
  for (let start = 0; start < versions.length; start += ROWS_PER_STATEMENT) {
    const chunk = versions.slice(start, start + ROWS_PER_STATEMENT);
    const inserted = await tx
      .insertInto('resource')
      .values(
        chunk.map((v) => ({
          resource_type: v.resourceType,
          id: v.id,
          version_id: v.versionId,
          last_updated: v.lastUpdated,
          deleted: v.deleted,
          content: v.content,
        })),
      )
      .onConflict((oc) => oc.columns(['resource_type', 'id']).doNothing())
      .returning(['resource_type', 'id'])
      .execute();
    const done = new Set(inserted.map((r) => `${r.resource_type}/${r.id}`));
    const written = chunk.filter((v) => done.has(`${v.resourceType}/${v.id}`));
    for (const v of chunk) if (!done.has(`${v.resourceType}/${v.id}`)) taken.push(`${v.resourceType}/${v.id}`);
    if (written.length === 0) continue;
    await tx
      .insertInto('resource_history')
      .values(
        written.map((v) => ({
          resource_type: v.resourceType,
          id: v.id,
          version_id: v.versionId,
          last_updated: v.lastUpdated,
          deleted: v.deleted,
          method: v.method,
          content: v.deleted ? null : v.content,
        })),
      )
      .execute();
  }
  return taken;
}
