import { CompiledQuery, sql, type RawBuilder } from 'kysely';
import type { Db } from './db';
import { INDEX_TABLES, type IndexRows, type IndexTable } from './search-schema';
import type { Tx } from './transaction';

/**
 * Writes the search index rows of one resource. Deletes of the old rows and the
 * multi-row inserts of the new ones go to the server as ONE statement (data-
 * modifying CTEs share a snapshot, so the delete never sees the new rows) as
 * long as it stays well under PostgreSQL's 65,535 bind parameters; a resource
 * with a huge number of index values falls back to one statement per chunk.
 */
/** The value columns of each index table (after resource_type, resource_id, param, grp) with their PostgreSQL types. */
export const INDEX_VALUE_COLUMNS: Record<IndexTable, readonly (readonly [name: string, type: string])[]> = {
  token: [['system', 'text'], ['code', 'text'], ['text_norm', 'text']],
  string: [['value', 'text'], ['value_norm', 'text']],
  date: [['low', 'timestamptz'], ['high', 'timestamptz']],
  reference: [['target_type', 'text'], ['target_id', 'text'], ['url', 'text']],
  number: [['value', 'numeric']],
  quantity: [['value', 'numeric'], ['system', 'text'], ['code', 'text'], ['unit', 'text']],
  uri: [['value', 'text']],
};
const COLUMNS = Object.fromEntries(Object.entries(INDEX_VALUE_COLUMNS).map(([t, cols]) => [t, cols.map(([name]) => name)])) as Record<IndexTable, string[]>;
/** For the typed arrays `unnest` takes. */
const COLUMN_TYPES = Object.fromEntries(Object.entries(INDEX_VALUE_COLUMNS).map(([t, cols]) => [t, cols.map(([, type]) => type)])) as Record<IndexTable, string[]>;
const MAX_PARAMS = 30000;

function insertSql(table: IndexTable, resourceType: string, id: string, rows: Record<string, unknown>[]): RawBuilder<unknown> {
  const cols = ['resource_type', 'resource_id', 'param', 'grp', ...COLUMNS[table]];
  const tuples = rows.map(
    (row) => sql`(${sql.join([resourceType, id, row.param, row.grp, ...COLUMNS[table].map((c) => row[c] ?? null)])})`,
  );
  return sql`insert into ${sql.id(`search_${table}`)} (${sql.join(cols.map((c) => sql.id(c)))}) values ${sql.join(tuples)}`;
}

function deleteSql(table: IndexTable, resourceType: string, id: string): RawBuilder<unknown> {
  return sql`delete from ${sql.id(`search_${table}`)} where resource_type = ${resourceType} and resource_id = ${id}`;
}

export async function replaceIndexRows(executor: Tx | Db, resourceType: string, id: string, rows: IndexRows): Promise<void> {
  const parts: RawBuilder<unknown>[] = INDEX_TABLES.map((t) => deleteSql(t, resourceType, id));
  let params = INDEX_TABLES.length * 2;
  const large: [IndexTable, Record<string, unknown>[]][] = [];
  for (const t of INDEX_TABLES) {
    const list = rows[t] as unknown as Record<string, unknown>[];
    if (list.length === 0) continue;
    const cost = list.length * (4 + COLUMNS[t].length);
    if (params + cost > MAX_PARAMS) large.push([t, list]);
    else {
      params += cost;
      parts.push(insertSql(t, resourceType, id, list));
    }
  }
  const ctes = parts.map((p, i) => sql`${sql.id(`w${i}`)} as (${p})`);
  await sql`with ${sql.join(ctes)} select 1`.execute(executor);
  for (const [t, list] of large) {
    const per = Math.floor(MAX_PARAMS / (4 + COLUMNS[t].length));
    for (let i = 0; i < list.length; i += per) await insertSql(t, resourceType, id, list.slice(i, i + per)).execute(executor);
  }
}

export interface ResourceIndexRows {
  resourceType: string;
  id: string;
  rows: IndexRows;
}

/**
 * Statement text and parameters built by hand: for thousands of rows this is
 * several times cheaper than composing kysely `sql` fragments, and the SQL is
 * the same multi-row INSERT / keyed DELETE either way. Identifiers are constants.
 */
class Statement {
  text = '';
  readonly params: unknown[] = [];
  bind(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

/** `(resource_type = T and resource_id in (...)) or ...` for `keys`: a ScalarArrayOp on the (resource_type, resource_id) index, never a scan. */
function keysWhere(st: Statement, keys: { resourceType: string; id: string }[]): string {
  const byType = new Map<string, string[]>();
  for (const { resourceType, id } of keys) {
    const ids = byType.get(resourceType);
    if (ids) ids.push(id);
    else byType.set(resourceType, [id]);
  }
  const parts = [...byType].map(([type, ids]) => `(resource_type = ${st.bind(type)} and resource_id in (${ids.map((id) => st.bind(id)).join(',')}))`);
  return parts.length === 1 ? parts[0] : `(${parts.join(' or ')})`;
}

async function run(executor: Tx | Db, st: Statement): Promise<void> {
  if (st.text) await executor.executeQuery(CompiledQuery.raw(st.text, st.params));
}

/**
 * Replaces the index rows of many resources at once (a Bundle's creates, a
 * reindex batch, the bench seed): ONE DELETE per index table for all their keys,
 * then ONE multi-row INSERT per table, chunked under the bind-parameter limit;
 * the statements are packed into as few round trips as the limit allows
 * (data-modifying CTEs; the deletes run before any insert, and CTEs of one
 * statement share a snapshot, so a delete never sees the new rows).
 */
export async function replaceIndexRowsMany(executor: Tx | Db, items: ResourceIndexRows[]): Promise<void> {
  if (items.length === 0) return;
  const parts: Part[] = [];
  const keysPerChunk = Math.floor(MAX_PARAMS / (INDEX_TABLES.length * 2));
  for (let i = 0; i < items.length; i += keysPerChunk) {
    const keys = items.slice(i, i + keysPerChunk);
    for (const t of INDEX_TABLES) parts.push({ build: (st) => `delete from search_${t} where ${keysWhere(st, keys)}`, params: keys.length * 2 });
  }
  parts.push(...indexInsertParts(items));
  for (const st of packStatements(parts)) await run(executor, st);
}

interface Part {
  build: (st: Statement) => string;
  params: number;
}

/** Multi-row INSERTs of the index rows of `items`, one per table, chunked under the bind-parameter limit. */
function indexInsertParts(items: ResourceIndexRows[]): Part[] {
  const parts: Part[] = [];
  for (const t of INDEX_TABLES) {
    const cols = COLUMNS[t];
    const rows: unknown[][] = [];
    for (const item of items) {
      for (const row of item.rows[t] as unknown as Record<string, unknown>[]) {
        const tuple: unknown[] = [item.resourceType, item.id, row.param, row.grp];
        for (const c of cols) tuple.push(row[c] ?? null);
        rows.push(tuple);
      }
    }
    parts.push(...valuesParts(`search_${t}`, ['resource_type', 'resource_id', 'param', 'grp', ...cols], rows));
  }
  return parts;
}

function valuesParts(table: string, cols: string[], rows: unknown[][]): Part[] {
  const parts: Part[] = [];
  const per = Math.floor(MAX_PARAMS / cols.length);
  for (let i = 0; i < rows.length; i += per) {
    const tuples = rows.slice(i, i + per);
    parts.push({
      build: (st) => {
        let text = `insert into ${table} (${cols.join(', ')}) values `;
        for (let j = 0; j < tuples.length; j++) {
          if (j > 0) text += ',';
          text += `(${tuples[j].map((v) => st.bind(v)).join(',')})`;
        }
        return text;
      },
      params: tuples.length * cols.length,
    });
  }
  return parts;
}

/** Packs parts into as few statements as the bind limit allows (data-modifying CTEs; they share one snapshot). */
function packStatements(parts: Part[]): Statement[] {
  const out: Statement[] = [];
  let st = new Statement();
  let ctes: string[] = [];
  const close = () => {
    if (ctes.length === 1) st.text = ctes[0];
    else if (ctes.length > 1) st.text = `with ${ctes.map((c, i) => `w${i} as (${c})`).join(', ')} select 1`;
    if (st.text) out.push(st);
    st = new Statement();
    ctes = [];
  };
  for (const part of parts) {
    if (st.params.length + part.params > MAX_PARAMS) close();
    ctes.push(part.build(st));
  }
  close();
  return out;
}

const NEEDS_ESCAPE = /["\\]/;

/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) of strings, numbers and nulls: what the driver
 * makes of a JS array, at half the cost (it runs two replaces on every element; most index
 * values have nothing to escape).
 */
export function arrayLiteral(values: unknown[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) {
      out += 'NULL';
      continue;
    }
    const s = String(v);
    out += NEEDS_ESCAPE.test(s) ? `"${s.replace(/["\\]/g, '\\$&')}"` : `"${s}"`;
  }
  return `${out}}`;
}

/**
 * The index rows of `items` as one `insert ... select * from unnest(...)` per table that has
 * rows, each column ONE typed array parameter (appended to `params`): a handful of bind
 * parameters however many rows, instead of one per value. PostgreSQL plans this in constant
 * time, where a VALUES list of thousands of tuples costs it more than the inserts; and the
 * driver serialises a few arrays instead of tens of thousands of parameters. Rows are inserted,
 * never replaced: for resources that did not exist before (see `insertCreatedResources`).
 */
export function indexRowInserts(items: ResourceIndexRows[], params: unknown[]): string[] {
  const statements: string[] = [];
  for (const t of INDEX_TABLES) {
    const cols = COLUMNS[t];
    let count = 0;
    for (const item of items) count += (item.rows[t] as unknown[]).length;
    if (count === 0) continue;
    const columns: unknown[][] = Array.from({ length: 4 + cols.length }, () => new Array<unknown>(count));
    let n = 0;
    for (const item of items) {
      for (const row of item.rows[t] as unknown as Record<string, unknown>[]) {
        columns[0][n] = item.resourceType;
        columns[1][n] = item.id;
        columns[2][n] = row.param;
        columns[3][n] = row.grp;
        for (let c = 0; c < cols.length; c++) columns[4 + c][n] = row[cols[c]] ?? null;
        n++;
      }
    }
    const types = ['text', 'text', 'text', 'int4', ...COLUMN_TYPES[t]];
    const args = columns.map((values, c) => {
      params.push(arrayLiteral(values));
      return `$${params.length}::${types[c]}[]`;
    });
    statements.push(`insert into search_${t} (resource_type, resource_id, param, grp, ${cols.join(', ')}) select * from unnest(${args.join(', ')})`);
  }
  return statements;
}

export async function deleteIndexRows(executor: Tx | Db, resourceType: string, id: string): Promise<void> {
  const ctes = INDEX_TABLES.map((t, i) => sql`${sql.id(`w${i}`)} as (${deleteSql(t, resourceType, id)})`);
  await sql`with ${sql.join(ctes)} select 1`.execute(executor);
}
