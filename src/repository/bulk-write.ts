import { CompiledQuery } from 'kysely';
import type { WriteVersionInput } from './resources';
import { indexRowInserts, type ResourceIndexRows } from './search-index';
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

export interface CreatedResource {
  resourceType: string;
  id: string;
  /** The stored text of version 1. */
  content: string;
}

/**
 * Version 1 of new resources with their history rows and their search index rows, in ONE
 * statement (data-modifying CTEs), so a Bundle's creates cost one round trip. Every column is
 * one typed array parameter (`unnest`), so the statement has a few dozen bind parameters
 * whatever the number of rows, and no bind-parameter limit to chunk around.
 *
 * Returns the keys (`Type/id`) that already existed. Then nothing of theirs went into
 * `resource` or `resource_history`, but their index rows did: the caller MUST fail the
 * transaction (a clash of generated ids is a conflict), which undoes the whole statement. Index rows are
 * inserted, not replaced: a key absent from `resource` has no index rows, since resource rows
 * are never removed (a delete is a version) and index rows are only written with their resource.
 */
export async function insertCreatedResources(tx: Tx, input: { lastUpdated: Date; resources: CreatedResource[]; index: ResourceIndexRows[] }): Promise<string[]> {
  const { resources } = input;
  if (resources.length === 0) return [];
  // The texts travel as one JSON array: JSON.stringify escapes them natively, several times
  // faster than the driver's array-literal escaping of quote-laden JSON.
  const params: unknown[] = [resources.map((r) => r.resourceType), resources.map((r) => r.id), JSON.stringify(resources.map((r) => r.content)), input.lastUpdated];
  const ctes = [
    `v as (select k.resource_type, k.id, c.content
       from unnest($1::text[], $2::text[]) with ordinality as k(resource_type, id, n)
       join json_array_elements_text($3::json) with ordinality as c(content, n) on c.n = k.n)`,
    `r as (insert into resource (resource_type, id, version_id, last_updated, deleted, content)
       select resource_type, id, 1, $4, false, content from v
       on conflict (resource_type, id) do nothing returning resource_type, id)`,
    `h as (insert into resource_history (resource_type, id, version_id, last_updated, deleted, method, content)
       select v.resource_type, v.id, 1, $4, false, 'create', v.content from r join v on v.resource_type = r.resource_type and v.id = r.id)`,
    ...indexRowInserts(input.index, params).map((statement, i) => `i${i} as (${statement})`),
  ];
  const result = await tx.executeQuery<{ key: string }>(
    CompiledQuery.raw(`with ${ctes.join(',\n')}\nselect v.resource_type || '/' || v.id as key from v where not exists (select 1 from r where r.resource_type = v.resource_type and r.id = v.id)`, params),
  );
  return result.rows.map((r) => r.key);
}
