// FHIR search (https://hl7.org/fhir/R4/search.html) over the write-time index, inside the caller's access scope.
import { FhirError, type Issue } from '../../errors/fhir-error';
import type { Db } from '../../repository/db';
import { sqlState } from '../../repository/driver-errors';
import { countMatches, estimateMatches, findIncluded, findRevIncluded, matchIds, searchPage, type Filter, type MatchRow, type SortKey } from '../../repository/search-query';
import type { Tx } from '../../repository/transaction';
import { parseJson } from '../../shared/json';
import { confineCriteria, scopeFilter } from '../access/access-filter';
import type { AccessScope } from '../access/access-scope';
import { applyView } from '../access/views';
import { AUDIT_EVENT, isStoredType } from '../stored-types';
import { decodeCursor, type Cursor } from './cursor';
import { isResourceType, patientCompartmentParams } from './definitions';
import { parseSearch, type IncludeSpec, type ParsedSearch, type SearchIssue } from './parse-query';

/**
 * Every search runs inside the access scope: the rows it selects, the rows it counts, the rows its
 * includes add, and the resources its chains and `_has` test are all confined by the scope in the
 * SQL itself (../access/access-filter.ts). What the caller may not see is never fetched.
 */
type Executor = Db | Tx;

export interface SearchRequest {
  /** Types searched: one for a type search, several for `_type`, none for every stored type. */
  types: string[];
  query: URLSearchParams;
  /** `Prefer: handling=strict`: unknown or bad parameters are a 400 instead of being ignored. */
  strict: boolean;
  /** System search (`_type` is read by the caller, not a criterion). */
  systemLevel?: boolean;
  /** Compartment search: only resources in Patient/{id}'s compartment. */
  compartment?: { type: string; id: string };
  now: number;
  /** Most resources `_include`/`_revinclude` add to one page. */
  maxIncluded: number;
}

export interface FoundResource {
  type: string;
  id: string;
  /** The resource as the caller may see it (views applied). */
  resource: Record<string, unknown>;
  /** Sort key values, for the cursor of the next page. */
  keys: (string | null)[];
}

export interface SearchResult {
  parsed: ParsedSearch;
  matches: FoundResource[];
  included: FoundResource[];
  total?: number;
  hasNext: boolean;
  hasPrevious: boolean;
  /** Whether the page was reached through a cursor. */
  paged: boolean;
}

const MAX_INCLUDE_ROUNDS = 4;

function sortCast(k: SortKey): string {
  if (k.kind === 'column') return k.column === 'id' ? 'text' : 'timestamptz';
  if (k.table === 'date') return 'timestamptz';
  if (k.table === 'number' || k.table === 'quantity') return 'numeric';
  return 'text';
}

function issuesToError(issues: SearchIssue[]): FhirError {
  return new FhirError(
    400,
    issues.map(
      (i): Issue => ({
        severity: 'error',
        code: /unknown|unsupported/i.test(i.message) ? 'not-supported' : 'invalid',
        diagnostics: `${i.param}: ${i.message}`,
        expression: [i.param],
        nhisCode: 'NHIS-1300',
      }),
    ),
  );
}

/** Database complaints about a value (bad number/date text, overflow, too complex) are the client's 400. */
export function mapQueryError(err: unknown): unknown {
  if (err instanceof FhirError) return err;
  const state = sqlState(err);
  if (state && (state.startsWith('22') || state === '54001' || state === '42P18')) {
    return FhirError.badRequest('A search value could not be interpreted', { code: 'NHIS-1302' });
  }
  return err;
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapQueryError(err);
  }
}

function requireStoredTypes(types: string[]): void {
  for (const t of types) {
    if (t === AUDIT_EVENT) throw FhirError.badRequest('AuditEvents are searched at GET /AuditEvent, not together with other types', { code: 'NHIS-1305', expression: ['_type'] });
    if (!isResourceType(t)) throw FhirError.notFound(`Unknown resource type '${t}'`, { code: 'NHIS-1303' });
  }
}

function parse(req: SearchRequest): ParsedSearch {
  const parsed = parseSearch(req.types, req.query, { now: req.now, systemLevel: req.systemLevel });
  const errors = parsed.issues.filter((i) => i.severity === 'error');
  if (req.strict && errors.length) throw issuesToError(errors);
  return parsed;
}

function shown(scope: AccessScope, row: MatchRow): FoundResource {
  const view = scope.on(row.resource_type, 'read')?.view;
  const resource = parseJson(row.content) as Record<string, unknown>;
  return { type: row.resource_type, id: row.id, resource: view ? applyView(view, resource) : resource, keys: row.keys };
}

/** The criteria of a search, confined to the scope (chains, `_has`) and to the scope's rows. */
function scopedFilter(scope: AccessScope, req: SearchRequest, parsed: ParsedSearch): Filter {
  const filters: Filter[] = [];
  for (const t of req.types.length === 1 ? req.types : []) filters.push(confineCriteria(scope, t, parsed.filter));
  if (req.types.length !== 1) filters.push(confineCriteria(scope, '*', parsed.filter));
  if (req.compartment) {
    const type = req.types[0];
    filters.push({ kind: 'compartment', type: req.compartment.type, id: req.compartment.id, params: patientCompartmentParams(type), includeSelf: type === req.compartment.type });
  }
  filters.push(scopeFilter(scope, req.types, 'search'));
  return { kind: 'and', filters };
}

async function addIncludes(db: Executor, scope: AccessScope, parsed: ParsedSearch, matches: MatchRow[], maxIncluded: number): Promise<MatchRow[]> {
  const readable = scopeFilter(scope, [], 'read');
  const seen = new Set(matches.map((m) => `${m.resource_type}/${m.id}`));
  const included: MatchRow[] = [];
  const add = (rows: MatchRow[]): MatchRow[] => {
    const fresh = rows.filter((r) => !seen.has(`${r.resource_type}/${r.id}`)).slice(0, maxIncluded - included.length);
    fresh.forEach((r) => seen.add(`${r.resource_type}/${r.id}`));
    included.push(...fresh);
    return fresh;
  };
  const byType = (rows: MatchRow[]) => {
    const map = new Map<string, string[]>();
    for (const r of rows) map.set(r.resource_type, [...(map.get(r.resource_type) ?? []), r.id]);
    return map;
  };
  const run = async (rows: MatchRow[], specs: IncludeSpec[], rev: boolean): Promise<MatchRow[]> => {
    const added: MatchRow[] = [];
    for (const [type, ids] of byType(rows)) {
      // What a view hides (a Patient's links, for a pharmacy) cannot be followed either.
      if (!rev && scope.on(type, 'read')?.view) continue;
      for (const spec of specs) {
        if (included.length >= maxIncluded) break;
        if (!rev && spec.sourceType !== '*' && spec.sourceType !== type) continue;
        if (rev && !isStoredType(spec.sourceType)) continue;
        const found = rev
          ? await findRevIncluded(db, spec.sourceType, spec.param, type, ids, maxIncluded, readable)
          : await findIncluded(db, type, ids, spec.param, spec.targetType, maxIncluded, readable);
        added.push(...add(found));
      }
    }
    return added;
  };
  await run(matches, parsed.include, false);
  await run(matches, parsed.revinclude.filter((s) => s.sourceType !== '*'), true);
  let frontier = included.slice();
  const iterInc = parsed.include.filter((s) => s.iterate);
  const iterRev = parsed.revinclude.filter((s) => s.iterate && s.sourceType !== '*');
  for (let round = 0; round < MAX_INCLUDE_ROUNDS && frontier.length && (iterInc.length || iterRev.length); round++) {
    frontier = [...(await run(frontier, iterInc, false)), ...(await run(frontier, iterRev, true))];
  }
  return included;
}

/**
 * `Bundle.total` (https://hl7.org/fhir/R4/search.html#total). Asked for (`_total=accurate`,
 * `_summary=count`): always counted. Not asked for: a first page that holds every match IS the
 * total (no count query); a full first page is counted; later pages carry no total (the client
 * has it from the first page), so paging never re-counts.
 */
async function totalOf(db: Executor, parsed: ParsedSearch, q: { types: string[]; filter: Filter }, page: { firstPage: boolean; full: boolean; matched: number }): Promise<number | undefined> {
  if (parsed.summary === 'count' || parsed.totalRequested === 'accurate') return countMatches(db, q);
  if (parsed.totalRequested === 'estimate') return estimateMatches(db, q);
  if (parsed.totalRequested === 'none' || !page.firstPage) return undefined;
  return page.full ? countMatches(db, q) : page.matched;
}

/** One page of a search, its includes and its total, all within `scope`. */
export function searchResources(db: Executor, scope: AccessScope, req: SearchRequest): Promise<SearchResult> {
  return guard(async () => {
    requireStoredTypes(req.types);
    const parsed = parse(req);
    const filter = scopedFilter(scope, req, parsed);
    const casts = parsed.sort.map(sortCast);
    const cursor: Cursor | undefined = parsed.cursor ? decodeCursor(parsed.cursor, parsed.sortText, casts) : undefined;
    const count = parsed.summary === 'count' ? 0 : parsed.count;
    const q = { types: req.types, filter, sort: parsed.sort, cursor, limit: count + 1 };

    let rows: MatchRow[] = [];
    let hasNext = false;
    let hasPrevious = false;
    if (count > 0) {
      rows = await searchPage(db, q);
      if (rows.length > count) {
        if (cursor?.backward) {
          rows = rows.slice(rows.length - count);
          hasPrevious = true;
        } else {
          rows = rows.slice(0, count);
          hasNext = true;
        }
      }
      if (cursor?.backward) hasNext = true;
      else if (cursor) hasPrevious = true;
    }
    const total = await totalOf(db, parsed, q, { firstPage: !cursor, full: hasNext || count === 0, matched: rows.length });
    const included = rows.length && (parsed.include.length || parsed.revinclude.length) ? await addIncludes(db, scope, parsed, rows, req.maxIncluded) : [];
    return {
      parsed,
      matches: rows.map((r) => shown(scope, r)),
      included: included.map((r) => shown(scope, r)),
      total,
      hasNext,
      hasPrevious,
      paged: !!cursor,
    };
  });
}

/**
 * Ids of current resources of `type` matching `criteria` inside `scope`, at most `limit`: the
 * matching of conditional create, update and delete and of conditional references. Always strict:
 * an unknown or malformed parameter is a 400 naming it.
 */
export function matchResourceIds(db: Executor, scope: AccessScope, type: string, criteria: URLSearchParams, limit: number): Promise<string[]> {
  return guard(async () => {
    requireStoredTypes([type]);
    // Matching is searching: without the right to search the type, criteria would answer from data the caller may not see.
    if (!scope.on(type, 'search')) {
      throw FhirError.forbidden(`Access denied: conditional criteria search ${type}, which no granted scope allows the caller to search`, { code: 'NHIS-1403' });
    }
    const parsed = parseSearch([type], criteria, { now: Date.now() });
    const errors = parsed.issues.filter((i) => i.severity === 'error');
    if (errors.length) throw issuesToError(errors);
    const filter: Filter = { kind: 'and', filters: [confineCriteria(scope, type, parsed.filter), scopeFilter(scope, [type], 'search')] };
    return matchIds(db, { types: [type], filter }, limit);
  });
}
