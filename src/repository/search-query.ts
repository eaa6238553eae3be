import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db';
import type { IndexTable } from './search-schema';
import type { Tx } from './transaction';
import { guarded } from './transaction';

/**
 * SQL for FHIR search over the index tables of migration 0002. The input is a
 * typed filter tree built (and allow-listed) by `fhir/search/parse-query.ts`;
 * every value is a bound parameter and every identifier is a constant here.
 * Filters become EXISTS / IN subqueries correlated on the resource id.
 */
export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

export type Match =
  /** system undefined: any system; null: no system (`|code`). code undefined: any code (`system|`). */
  | { t: 'token'; system?: string | null; code?: string }
  | { t: 'token-text'; pattern: string }
  | { t: 'string'; mode: 'start' | 'exact' | 'contains'; value: string }
  /** [low, high) of the search value, ISO instants or ±infinity. */
  | { t: 'date'; prefix: Prefix; low: string; high: string; approxLow: string; approxHigh: string }
  /** [low, high) is the value's precision range; value itself for gt/lt. */
  | { t: 'number'; prefix: Prefix; value: string; low: string; high: string; system?: string | null; code?: string }
  | { t: 'reference'; type?: string; id?: string; url?: string; types?: string[] }
  | { t: 'uri'; mode: 'eq' | 'below' | 'above'; value: string };

export type Filter =
  | { kind: 'values'; table: IndexTable; param: string; matches: Match[]; negate?: boolean }
  | { kind: 'missing'; tables: IndexTable[]; param: string; missing: boolean }
  | { kind: 'id'; ids: string[]; negate?: boolean }
  | { kind: 'lastUpdated'; matches: Match[] }
  /** A reference param whose targets (of `targets`' types) match the inner filter. */
  | { kind: 'chain'; param: string; targets: { type: string; filter: Filter }[] }
  /** `_has:Source:refParam:...` — some Source resource referring here via refParam matches. */
  | { kind: 'has'; sourceType: string; param: string; filter: Filter }
  | { kind: 'composite'; param: string; values: { table: IndexTable; match: Match }[][] }
  /** Resources in the compartment of `type/id` through any of `params`. */
  | { kind: 'compartment'; type: string; id: string; params: string[]; includeSelf: boolean }
  /** Resources in Patient/{patientId}'s compartment, whatever their type (`pairs`: every `Type.param` that puts one there). */
  | { kind: 'patientCompartment'; patientId: string; pairs: string[] }
  | { kind: 'and'; filters: Filter[] }
  | { kind: 'or'; filters: Filter[] }
  | { kind: 'resourceType'; type: string }
  /** The resource's type is one of `types` (or none of them, negated). */
  | { kind: 'resourceTypes'; types: string[]; negate?: boolean };

/** A filter no resource passes, and one every resource passes. */
export const NO_RESOURCE: Filter = { kind: 'or', filters: [] };
export const ANY_RESOURCE: Filter = { kind: 'and', filters: [] };

export type SortKey =
  | { kind: 'column'; column: 'id' | 'last_updated'; desc: boolean }
  | { kind: 'index'; table: IndexTable; param: string; desc: boolean };

type Sql = RawBuilder<unknown>;

class Aliases {
  private n = 0;
  next(): string {
    return `s${this.n++}`;
  }
}

const TRUE: Sql = sql`true`;
const FALSE: Sql = sql`false`;

function and(parts: Sql[]): Sql {
  if (parts.length === 0) return TRUE;
  if (parts.length === 1) return parts[0];
  return sql`(${sql.join(parts, sql` and `)})`;
}
function or(parts: Sql[]): Sql {
  if (parts.length === 0) return FALSE;
  if (parts.length === 1) return parts[0];
  return sql`(${sql.join(parts, sql` or `)})`;
}

/** FHIR date comparison of a target range [rs, re) against a search range (https://hl7.org/fhir/R4/search.html#prefix). */
function dateCompare(rs: Sql, re: Sql, m: Extract<Match, { t: 'date' }>): Sql {
  const ls = sql`cast(${m.low} as timestamptz)`;
  const le = sql`cast(${m.high} as timestamptz)`;
  const eq = sql`(${rs} >= ${ls} and ${re} <= ${le})`;
  switch (m.prefix) {
    case 'eq':
      return eq;
    case 'ne':
      return sql`not ${eq}`;
    case 'gt':
      return sql`${re} > ${le}`;
    case 'lt':
      return sql`${rs} < ${ls}`;
    case 'ge':
      return sql`(${re} > ${le} or ${eq})`;
    case 'le':
      return sql`(${rs} < ${ls} or ${eq})`;
    case 'sa':
      return sql`${rs} >= ${le}`;
    case 'eb':
      return sql`${re} <= ${ls}`;
    case 'ap':
      return sql`(${rs} < cast(${m.approxHigh} as timestamptz) and ${re} > cast(${m.approxLow} as timestamptz))`;
  }
}

function numberCompare(col: Sql, m: Extract<Match, { t: 'number' }>): Sql {
  const v = sql`cast(${m.value} as numeric)`;
  const lo = sql`cast(${m.low} as numeric)`;
  const hi = sql`cast(${m.high} as numeric)`;
  switch (m.prefix) {
    case 'eq':
      return sql`(${col} >= ${lo} and ${col} < ${hi})`;
    case 'ne':
      return sql`not (${col} >= ${lo} and ${col} < ${hi})`;
    case 'gt':
    case 'sa':
      return sql`${col} > ${v}`;
    case 'lt':
    case 'eb':
      return sql`${col} < ${v}`;
    case 'ge':
      return sql`${col} >= ${v}`;
    case 'le':
      return sql`${col} <= ${v}`;
    case 'ap':
      return sql`(${col} >= ${v} - abs(${v}) * 0.1 and ${col} <= ${v} + abs(${v}) * 0.1)`;
  }
}

function col(alias: string, name: string): Sql {
  return sql.ref(`${alias}.${name}`);
}

function matchSql(a: string, m: Match): Sql {
  switch (m.t) {
    case 'token': {
      const parts: Sql[] = [];
      if (m.code !== undefined) parts.push(sql`${col(a, 'code')} = ${m.code}`);
      if (m.system === null) parts.push(sql`${col(a, 'system')} is null`);
      else if (m.system !== undefined) parts.push(sql`${col(a, 'system')} = ${m.system}`);
      return and(parts);
    }
    case 'token-text':
      return sql`${col(a, 'text_norm')} like ${m.pattern}`;
    case 'string':
      if (m.mode === 'exact') return sql`${col(a, 'value')} = ${m.value}`;
      return sql`${col(a, 'value_norm')} like ${m.value}`;
    case 'date':
      return dateCompare(col(a, 'low'), col(a, 'high'), m);
    case 'number': {
      const parts = [numberCompare(col(a, 'value'), m)];
      if (m.code !== undefined) {
        if (m.system === undefined || m.system === null) parts.push(sql`(${col(a, 'code')} = ${m.code} or ${col(a, 'unit')} = ${m.code})`);
        else parts.push(sql`${col(a, 'code')} = ${m.code}`);
      }
      if (m.system) parts.push(sql`${col(a, 'system')} = ${m.system}`);
      return and(parts);
    }
    case 'reference': {
      const options: Sql[] = [];
      if (m.id !== undefined) {
        const parts = [sql`${col(a, 'target_id')} = ${m.id}`];
        if (m.type) parts.push(sql`${col(a, 'target_type')} = ${m.type}`);
        else if (m.types) parts.push(sql`${col(a, 'target_type')} in (${sql.join(m.types)})`);
        options.push(and(parts));
      }
      if (m.url !== undefined) options.push(sql`${col(a, 'url')} = ${m.url}`);
      return or(options);
    }
    case 'uri':
      if (m.mode === 'eq') return sql`${col(a, 'value')} = ${m.value}`;
      if (m.mode === 'below') return sql`${col(a, 'value')} like ${m.value}`;
      return sql`left(${m.value}, length(${col(a, 'value')})) = ${col(a, 'value')}`;
  }
}

function table(t: IndexTable): Sql {
  return sql.id(`search_${t}`);
}

/** Rows of index table `t` belonging to the resource (typeRef, idRef). */
function ownRows(a: string, t: IndexTable, typeRef: Sql, idRef: Sql, param: string | string[]): Sql {
  const paramCond = Array.isArray(param)
    ? sql`${col(a, 'param')} in (${sql.join(param)})`
    : sql`${col(a, 'param')} = ${param}`;
  return sql`${table(t)} as ${sql.id(a)} where ${col(a, 'resource_type')} = ${typeRef} and ${col(a, 'resource_id')} = ${idRef} and ${paramCond}`;
}

/** SQL for `f` about the resource whose type and id are `typeRef`/`idRef`, with `r` the resource row alias. */
function filterSql(al: Aliases, f: Filter, typeRef: Sql, idRef: Sql, rAlias: string): Sql {
  switch (f.kind) {
    case 'values': {
      const a = al.next();
      const e = sql`exists (select 1 from ${ownRows(a, f.table, typeRef, idRef, f.param)} and ${or(f.matches.map((m) => matchSql(a, m)))})`;
      return f.negate ? sql`not ${e}` : e;
    }
    case 'missing': {
      const exists = or(
        f.tables.map((t) => {
          const a = al.next();
          return sql`exists (select 1 from ${ownRows(a, t, typeRef, idRef, f.param)})`;
        }),
      );
      return f.missing ? sql`not ${exists}` : exists;
    }
    case 'id': {
      const e = sql`${idRef} in (${sql.join(f.ids)})`;
      return f.negate ? sql`not ${e}` : e;
    }
    case 'lastUpdated': {
      const lu = col(rAlias, 'last_updated');
      return or(f.matches.map((m) => (m.t === 'date' ? dateCompare(lu, sql`${lu} + interval '1 millisecond'`, m) : FALSE)));
    }
    case 'chain': {
      const a = al.next();
      const inner = or(
        f.targets.map(({ type, filter }) => {
          const r2 = al.next();
          return sql`(${col(a, 'target_type')} = ${type} and ${col(a, 'target_id')} in (select ${col(r2, 'id')} from resource as ${sql.id(r2)} where ${col(r2, 'resource_type')} = ${type} and not ${col(r2, 'deleted')} and ${filterSql(al, filter, sql`${type}`, col(r2, 'id'), r2)}))`;
        }),
      );
      return sql`exists (select 1 from ${ownRows(a, 'reference', typeRef, idRef, f.param)} and ${inner})`;
    }
    case 'has': {
      const a = al.next();
      const r2 = al.next();
      return sql`${idRef} in (select ${col(a, 'target_id')} from search_reference as ${sql.id(a)} join resource as ${sql.id(r2)} on ${col(r2, 'resource_type')} = ${col(a, 'resource_type')} and ${col(r2, 'id')} = ${col(a, 'resource_id')} and not ${col(r2, 'deleted')} where ${col(a, 'resource_type')} = ${f.sourceType} and ${col(a, 'param')} = ${f.param} and ${col(a, 'target_type')} = ${typeRef} and ${filterSql(al, f.filter, sql`${f.sourceType}`, col(r2, 'id'), r2)})`;
    }
    case 'composite': {
      return or(
        f.values.map((components) => {
          const aliases = components.map(() => al.next());
          const [first, ...rest] = components;
          const a0 = aliases[0];
          const joins = rest.map((c, i) => {
            const ai = aliases[i + 1];
            return sql` join ${table(c.table)} as ${sql.id(ai)} on ${col(ai, 'resource_type')} = ${col(a0, 'resource_type')} and ${col(ai, 'resource_id')} = ${col(a0, 'resource_id')} and ${col(ai, 'grp')} = ${col(a0, 'grp')} and ${col(ai, 'param')} = ${`${f.param}$${i + 1}`} and ${matchSql(ai, c.match)}`;
          });
          return sql`exists (select 1 from ${table(first.table)} as ${sql.id(a0)}${sql.join(joins, sql``)} where ${col(a0, 'resource_type')} = ${typeRef} and ${col(a0, 'resource_id')} = ${idRef} and ${col(a0, 'param')} = ${`${f.param}$0`} and ${matchSql(a0, first.match)})`;
        }),
      );
    }
    case 'compartment': {
      const a = al.next();
      const viaRef = f.params.length
        ? sql`exists (select 1 from ${ownRows(a, 'reference', typeRef, idRef, f.params)} and ${col(a, 'target_type')} = ${f.type} and ${col(a, 'target_id')} = ${f.id})`
        : FALSE;
      return f.includeSelf ? or([viaRef, sql`(${typeRef} = ${f.type} and ${idRef} = ${f.id})`]) : viaRef;
    }
    case 'and':
      return and(f.filters.map((x) => filterSql(al, x, typeRef, idRef, rAlias)));
    case 'or':
      return or(f.filters.map((x) => filterSql(al, x, typeRef, idRef, rAlias)));
    case 'resourceType':
      return sql`${typeRef} = ${f.type}`;
    case 'resourceTypes': {
      if (f.types.length === 0) return f.negate ? TRUE : FALSE;
      const e = sql`${typeRef} in (${sql.join(f.types)})`;
      return f.negate ? sql`not ${e}` : e;
    }
    case 'patientCompartment': {
      const a = al.next();
      const viaRef = f.pairs.length
        ? sql`exists (select 1 from search_reference as ${sql.id(a)} where ${col(a, 'resource_type')} = ${typeRef} and ${col(a, 'resource_id')} = ${idRef} and ${col(a, 'target_type')} = 'Patient' and ${col(a, 'target_id')} = ${f.patientId} and (${col(a, 'resource_type')} || '.' || ${col(a, 'param')}) in (${sql.join(f.pairs)}))`
        : FALSE;
      return or([viaRef, sql`(${typeRef} = 'Patient' and ${idRef} = ${f.patientId})`]);
    }
  }
}

function sortExpr(al: Aliases, k: SortKey): { expr: Sql; cast: string } {
  if (k.kind === 'column') return { expr: sql.ref(`r.${k.column}`), cast: k.column === 'id' ? 'text' : 'timestamptz' };
  const a = al.next();
  const own = ownRows(a, k.table, sql.ref('r.resource_type'), sql.ref('r.id'), k.param);
  const agg = k.desc ? 'max' : 'min';
  switch (k.table) {
    case 'date':
      return { expr: sql`(select ${sql.raw(agg)}(${col(a, k.desc ? 'high' : 'low')}) from ${own})`, cast: 'timestamptz' };
    case 'number':
    case 'quantity':
      return { expr: sql`(select ${sql.raw(agg)}(${col(a, 'value')}) from ${own})`, cast: 'numeric' };
    case 'string':
      return { expr: sql`(select ${sql.raw(agg)}(${col(a, 'value_norm')}) from ${own})`, cast: 'text' };
    case 'token':
      return { expr: sql`(select ${sql.raw(agg)}(${col(a, 'code')}) from ${own})`, cast: 'text' };
    case 'reference':
      return { expr: sql`(select ${sql.raw(agg)}(coalesce(${col(a, 'target_id')}, ${col(a, 'url')})) from ${own})`, cast: 'text' };
    case 'uri':
      return { expr: sql`(select ${sql.raw(agg)}(${col(a, 'value')}) from ${own})`, cast: 'text' };
  }
}

export interface SearchQuery {
  /** Resource types searched (one for a type search; several for `_type`; empty means all). */
  types: string[];
  /** Filter per type (a system search may need different index params per type). */
  filter: Filter;
  sort: SortKey[];
  /** Position after which (or before which, for `previous`) the page starts. */
  cursor?: { values: (string | null)[]; type: string; id: string; backward: boolean };
  limit: number;
}

export interface MatchRow {
  resource_type: string;
  id: string;
  content: string;
  /** Sort key values as text, for the next cursor. */
  keys: (string | null)[];
}

/** One key position: strictly-after and tie conditions under the page direction. */
function keysetCondition(keys: { expr: Sql; cast: string; desc: boolean }[], values: (string | null)[], backward: boolean): Sql {
  const options: Sql[] = [];
  const ties: Sql[] = [];
  keys.forEach((k, i) => {
    const v = values[i];
    const desc = backward ? !k.desc : k.desc;
    const nullsLast = !backward;
    const typed = sql`cast(${v} as ${sql.raw(k.cast)})`;
    let after: Sql;
    let tie: Sql;
    if (v === null) {
      after = nullsLast ? FALSE : sql`${k.expr} is not null`;
      tie = sql`${k.expr} is null`;
    } else {
      const cmp = desc ? sql`${k.expr} < ${typed}` : sql`${k.expr} > ${typed}`;
      after = nullsLast ? sql`(${cmp} or ${k.expr} is null)` : cmp;
      tie = sql`${k.expr} = ${typed}`;
    }
    options.push(and([...ties, after]));
    ties.push(tie);
  });
  return or(options);
}

function orderSql(keys: { expr: Sql; desc: boolean }[], backward: boolean): Sql {
  return sql.join(
    keys.map((k) => {
      const desc = backward ? !k.desc : k.desc;
      return sql`${k.expr} ${sql.raw(desc ? 'desc' : 'asc')} ${sql.raw(backward ? 'nulls first' : 'nulls last')}`;
    }),
  );
}

function baseWhere(al: Aliases, q: Pick<SearchQuery, 'types' | 'filter'>): Sql {
  const parts: Sql[] = [sql`not r.deleted`];
  if (q.types.length === 1) parts.push(sql`r.resource_type = ${q.types[0]}`);
  else if (q.types.length > 1) parts.push(sql`r.resource_type in (${sql.join(q.types)})`);
  parts.push(filterSql(al, q.filter, sql.ref('r.resource_type'), sql.ref('r.id'), 'r'));
  return and(parts);
}

/** One page of matches in sort order, keyset-paged; `limit + 1` rows tell whether more follow. */
export async function searchPage(db: Db | Tx, q: SearchQuery): Promise<MatchRow[]> {
  const al = new Aliases();
  const where = baseWhere(al, q);
  const keys = [
    ...q.sort.map((k) => ({ ...sortExpr(al, k), desc: k.desc })),
    { expr: sql.ref('r.resource_type') as Sql, cast: 'text', desc: false },
    { expr: sql.ref('r.id') as Sql, cast: 'text', desc: false },
  ];
  const backward = q.cursor?.backward ?? false;
  const conds = [where];
  if (q.cursor) conds.push(keysetCondition(keys, [...q.cursor.values, q.cursor.type, q.cursor.id], backward));
  const selectKeys = q.sort.length
    ? sql`, ${sql.join(keys.slice(0, q.sort.length).map((k, i) => sql`cast(${k.expr} as text) as ${sql.id(`k${i}`)}`))}`
    : sql``;
  const query = sql<Record<string, string | null>>`select r.resource_type, r.id, r.content${selectKeys} from resource as r where ${and(conds)} order by ${orderSql(keys, backward)} limit ${q.limit}`;
  const result = await guarded(() => query.execute(db));
  const rows = result.rows.map((row) => ({
    resource_type: String(row.resource_type),
    id: String(row.id),
    content: String(row.content),
    keys: q.sort.map((_k, i) => row[`k${i}`] ?? null),
  }));
  return backward ? rows.reverse() : rows;
}

/** Exact number of matches. */
export async function countMatches(db: Db | Tx, q: Pick<SearchQuery, 'types' | 'filter'>): Promise<number> {
  const al = new Aliases();
  const result = await guarded(() => sql<{ n: string }>`select count(*) as n from resource as r where ${baseWhere(al, q)}`.execute(db));
  return Number(result.rows[0]?.n ?? 0);
}

/** The planner's row estimate (cheap, approximate). */
export async function estimateMatches(db: Db | Tx, q: Pick<SearchQuery, 'types' | 'filter'>): Promise<number | undefined> {
  const al = new Aliases();
  try {
    const result = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) select 1 from resource as r where ${baseWhere(al, q)}`.execute(db);
    const raw = result.rows[0]?.['QUERY PLAN'];
    const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: { 'Plan Rows': number } }[];
    return Math.round(plan[0].Plan['Plan Rows']);
  } catch {
    return undefined;
  }
}

/** The ids of matches, for conditional interactions. */
export async function matchIds(db: Db | Tx, q: Pick<SearchQuery, 'types' | 'filter'>, limit: number): Promise<string[]> {
  const al = new Aliases();
  const result = await guarded(() =>
    sql<{ id: string }>`select r.id from resource as r where ${baseWhere(al, q)} order by r.id limit ${limit}`.execute(db),
  );
  return result.rows.map((r) => r.id);
}

export interface ResourceRef {
  resource_type: string;
  id: string;
}

/** Current resources referenced by `sources` through `param` (`*` = any), optionally only of `targetType`. */
export async function findIncluded(
  db: Db | Tx,
  sourceType: string,
  sourceIds: string[],
  param: string,
  targetType: string | undefined,
  limit: number,
  access: Filter,
): Promise<MatchRow[]> {
  if (sourceIds.length === 0) return [];
  const visible = filterSql(new Aliases(), access, sql.ref('r.resource_type'), sql.ref('r.id'), 'r');
  const result = await guarded(() =>
    sql<{ resource_type: string; id: string; content: string }>`select distinct r.resource_type, r.id, r.content from search_reference as x join resource as r on r.resource_type = x.target_type and r.id = x.target_id where x.resource_type = ${sourceType} and x.resource_id in (${sql.join(sourceIds)}) ${param === '*' ? sql`` : sql`and x.param = ${param}`} ${targetType ? sql`and x.target_type = ${targetType}` : sql``} and not r.deleted and ${visible} order by r.resource_type, r.id limit ${limit}`.execute(db),
  );
  return result.rows.map((r) => ({ ...r, keys: [] }));
}

/** Current `sourceType` resources referring to any of `targets` through `param` (`*` = any). */
export async function findRevIncluded(
  db: Db | Tx,
  sourceType: string,
  param: string,
  targetType: string,
  targetIds: string[],
  limit: number,
  access: Filter,
): Promise<MatchRow[]> {
  if (targetIds.length === 0) return [];
  const visible = filterSql(new Aliases(), access, sql.ref('r.resource_type'), sql.ref('r.id'), 'r');
  const result = await guarded(() =>
    sql<{ resource_type: string; id: string; content: string }>`select distinct r.resource_type, r.id, r.content from search_reference as x join resource as r on r.resource_type = x.resource_type and r.id = x.resource_id where x.resource_type = ${sourceType} ${param === '*' ? sql`` : sql`and x.param = ${param}`} and x.target_type = ${targetType} and x.target_id in (${sql.join(targetIds)}) and not r.deleted and ${visible} order by r.resource_type, r.id limit ${limit}`.execute(db),
  );
  return result.rows.map((r) => ({ ...r, keys: [] }));
}

/**
 * Current versions of resources of one type if they pass `access` (the caller's access scope as a
 * filter); a resource the filter hides is indistinguishable from a missing one. Deleted resources
 * have no index rows, so a filter that needs them (compartment, granular scope) hides those too.
 */
/** The SQL condition of `filter` on the resource row aliased `alias` (for queries written elsewhere in the repository). */
export function filterCondition(filter: Filter, alias = 'r'): RawBuilder<unknown> {
  return filterSql(new Aliases(), filter, sql.ref(`${alias}.resource_type`), sql.ref(`${alias}.id`), alias);
}

export interface VisibleRow {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: Date | string;
  deleted: boolean;
  content: string | null;
}

export async function readVisible(db: Db | Tx, resourceType: string, ids: readonly string[], access: Filter): Promise<VisibleRow[]> {
  if (ids.length === 0) return [];
  const visible = filterSql(new Aliases(), access, sql.ref('r.resource_type'), sql.ref('r.id'), 'r');
  const result = await guarded(() =>
    sql<VisibleRow>`select r.resource_type, r.id, r.version_id, r.last_updated, r.deleted, r.content from resource as r where r.resource_type = ${resourceType} and r.id in (${sql.join([...ids])}) and ${visible}`.execute(db),
  );
  return result.rows;
}

export async function readCurrentIfVisible(db: Db | Tx, resourceType: string, id: string, access: Filter): Promise<VisibleRow | undefined> {
  return (await readVisible(db, resourceType, [id], access))[0];
}
