import type { Logger } from 'pino';
import { FhirError, type Issue } from '../../errors/fhir-error';
import type { Db } from '../../repository/db';
import { sqlState } from '../../repository/driver-errors';
import { deleteIndexRows, replaceIndexRows, replaceIndexRowsMany } from '../../repository/search-index';
import {
  countMatches,
  estimateMatches,
  findIncluded,
  findRevIncluded,
  matchIds,
  searchPage,
  type Filter,
  type MatchRow,
  type SearchQuery,
  type SortKey,
} from '../../repository/search-query';
import type { Tx } from '../../repository/transaction';
import { systemClock, type Clock } from '../../shared/clock';
import { parseJson } from '../../shared/json';
import type { FhirRequest, FhirResponse } from '../request';
import { decodeCursor, encodeCursor, type Cursor } from './cursor';
import { isResourceType, patientCompartmentPairs, patientCompartmentParams, searchParamsOf } from './definitions';
import type { SearchEngine } from './engine';
import { extractIndexRows } from './extract-index';
import { parseSearch, type IncludeSpec, type ParsedSearch, type SearchIssue } from './parse-query';
import { applyElements, applySummary } from './subset';

/**
 * FHIR search (https://hl7.org/fhir/R4/search.html) over the write-time index:
 * search-type, search-system (`GET /?_type=`), compartment search, and the
 * criteria matching of conditional interactions.
 */
export interface SearchEngineDeps {
  db: Db;
  logger: Logger;
  clock?: Clock;
  /** Most resources added by _include/_revinclude to one page. */
  maxIncluded?: number;
}

export interface FullSearchEngine extends SearchEngine {
  /** GET [base]?_type=A,B&... (https://hl7.org/fhir/R4/http.html#search) */
  searchSystem(req: FhirRequest): Promise<FhirResponse>;
  /** GET [base]/Patient/{id}/{type}?... (https://hl7.org/fhir/R4/compartmentdefinition.html) */
  searchCompartment(req: FhirRequest, compartmentType: string, compartmentId: string, resourceType: string): Promise<FhirResponse>;
}

type Resource = { resourceType: string; id: string } & Record<string, unknown>;

const MAX_INCLUDE_ROUNDS = 4;

function sortCast(k: SortKey): string {
  if (k.kind === 'column') return k.column === 'id' ? 'text' : 'timestamptz';
  if (k.table === 'date') return 'timestamptz';
  if (k.table === 'number' || k.table === 'quantity') return 'numeric';
  return 'text';
}

function isStrict(req: FhirRequest): boolean {
  return /(^|[;,\s])handling\s*=\s*strict\b/i.test(req.headers['prefer'] ?? '');
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
function mapQueryError(err: unknown): unknown {
  if (err instanceof FhirError) return err;
  const state = sqlState(err);
  if (state && (state.startsWith('22') || state === '54001' || state === '42P18')) {
    return FhirError.badRequest('A search value could not be interpreted', { code: 'NHIS-1302' });
  }
  return err;
}

export function createFullSearchEngine(deps: SearchEngineDeps): FullSearchEngine {
  const clock = deps.clock ?? systemClock;
  const maxIncluded = deps.maxIncluded ?? 1000;

  function parse(types: string[], query: URLSearchParams, strict: boolean, systemLevel = false): ParsedSearch {
    const parsed = parseSearch(types, query, { now: clock.now().getTime(), systemLevel });
    const errors = parsed.issues.filter((i) => i.severity === 'error');
    if (strict && errors.length) throw issuesToError(errors);
    return parsed;
  }

  async function addIncludes(parsed: ParsedSearch, matches: MatchRow[], patientCompartment?: string): Promise<MatchRow[]> {
    const confinement = patientCompartment ? { patientId: patientCompartment, pairs: patientCompartmentPairs() } : undefined;
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
        for (const spec of specs) {
          if (included.length >= maxIncluded) break;
          if (!rev && spec.sourceType !== '*' && spec.sourceType !== type) continue;
          const found = rev
            ? await findRevIncluded(deps.db, spec.sourceType, spec.param, type, ids, maxIncluded, confinement)
            : await findIncluded(deps.db, type, ids, spec.param, spec.targetType, maxIncluded, confinement);
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
      const next = [...(await run(frontier, iterInc, false)), ...(await run(frontier, iterRev, true))];
      frontier = next;
    }
    return included;
  }

  /**
   * `Bundle.total` (https://hl7.org/fhir/R4/search.html#total). Asked for
   * (`_total=accurate`, `_summary=count`): always counted. Not asked for: a
   * first page that holds every match IS the total (no count query); a full
   * first page is counted; later pages carry no total (the client has it from
   * the first page), so paging never re-counts.
   */
  async function totalOf(
    parsed: ParsedSearch,
    q: Pick<SearchQuery, 'types' | 'filter'>,
    page: { firstPage: boolean; full: boolean; matched: number },
  ): Promise<number | undefined> {
    if (parsed.summary === 'count' || parsed.totalRequested === 'accurate') return countMatches(deps.db, q);
    if (parsed.totalRequested === 'estimate') return estimateMatches(deps.db, q);
    if (parsed.totalRequested === 'none' || !page.firstPage) return undefined;
    return page.full ? countMatches(deps.db, q) : page.matched;
  }

  function toResource(row: MatchRow, parsed: ParsedSearch): Record<string, unknown> {
    let r = parseJson(row.content) as Record<string, unknown>;
    if (parsed.summary === 'true' || parsed.summary === 'text' || parsed.summary === 'data') r = applySummary(r, parsed.summary);
    else if (parsed.elements?.length) r = applyElements(r, parsed.elements);
    return r;
  }

  async function run(req: FhirRequest, types: string[], linkPath: string, extra: Filter | undefined, systemLevel = false): Promise<FhirResponse> {
    const strict = isStrict(req);
    const parsed = parse(types, req.query, strict, systemLevel);
    const filter: Filter = extra ? { kind: 'and', filters: [extra, parsed.filter] } : parsed.filter;
    const casts = parsed.sort.map(sortCast);
    const cursor: Cursor | undefined = parsed.cursor ? decodeCursor(parsed.cursor, parsed.sortText, casts) : undefined;
    const count = parsed.summary === 'count' ? 0 : parsed.count;
    const q = { types, filter, sort: parsed.sort, cursor, limit: count + 1 };

    let rows: MatchRow[] = [];
    let hasNext = false;
    let hasPrev = false;
    if (count > 0) {
      rows = await searchPage(deps.db, q);
      if (rows.length > count) {
        if (cursor?.backward) {
          rows = rows.slice(rows.length - count);
          hasPrev = true;
        } else {
          rows = rows.slice(0, count);
          hasNext = true;
        }
      }
      if (cursor?.backward) hasNext = true;
      else if (cursor) hasPrev = true;
    }
    const total = await totalOf(parsed, q, { firstPage: !cursor, full: hasNext || count === 0, matched: rows.length });
    const included = rows.length && (parsed.include.length || parsed.revinclude.length) ? await addIncludes(parsed, rows, req.access?.patientCompartment) : [];

    const base = `${req.baseUrl}${linkPath ? `/${linkPath}` : ''}`;
    const link = (extraParams: [string, string][]) => {
      const params = new URLSearchParams([...parsed.used.filter(([k]) => k !== '_count'), ['_count', String(parsed.count)], ...extraParams]);
      return `${base}?${params.toString()}`;
    };
    const links: { relation: string; url: string }[] = [
      { relation: 'self', url: link(parsed.cursor && cursor ? [['_cursor', parsed.cursor]] : []) },
    ];
    if (hasNext && rows.length) {
      const last = rows[rows.length - 1];
      links.push({ relation: 'next', url: link([['_cursor', encodeCursor({ values: last.keys, type: last.resource_type, id: last.id, backward: false }, parsed.sortText)]]) });
    }
    if (hasPrev && rows.length) {
      const first = rows[0];
      links.push({ relation: 'previous', url: link([['_cursor', encodeCursor({ values: first.keys, type: first.resource_type, id: first.id, backward: true }, parsed.sortText)]]) });
    }

    const entry: Record<string, unknown>[] = [
      ...rows.map((r) => ({ fullUrl: `${req.baseUrl}/${r.resource_type}/${r.id}`, resource: toResource(r, parsed), search: { mode: 'match' } })),
      ...included.map((r) => ({ fullUrl: `${req.baseUrl}/${r.resource_type}/${r.id}`, resource: toResource(r, parsed), search: { mode: 'include' } })),
    ];
    if (parsed.issues.length) {
      entry.push({
        resource: {
          resourceType: 'OperationOutcome',
          issue: parsed.issues.map((i) => ({
            severity: i.severity === 'error' ? 'warning' : i.severity,
            code: i.severity === 'error' ? 'not-supported' : 'informational',
            diagnostics: i.severity === 'error' ? `Ignored ${i.param}: ${i.message}` : i.message,
            expression: [i.param],
          })),
        },
        search: { mode: 'outcome' },
      });
    }
    const bundle: Record<string, unknown> = { resourceType: 'Bundle', type: 'searchset' };
    if (total !== undefined) bundle.total = total;
    bundle.link = links;
    if (entry.length) bundle.entry = entry;
    return { status: 200, body: bundle };
  }

  async function guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw mapQueryError(err);
    }
  }

  function requireType(type: string): void {
    if (!isResourceType(type)) throw FhirError.notFound(`Unknown resource type '${type}'`, { code: 'NHIS-1303' });
  }

  return {
    capabilitySearchParams(resourceType: string) {
      return [...searchParamsOf(resourceType).values()].map((d) => ({ name: d.code, type: d.type, definition: d.url }));
    },

    async indexResource(tx: Tx, resource: Resource): Promise<void> {
      await replaceIndexRows(tx, resource.resourceType, resource.id, extractIndexRows(resource));
    },

    async indexResources(tx: Tx, resources: Resource[]): Promise<void> {
      await replaceIndexRowsMany(
        tx,
        resources.map((r) => ({ resourceType: r.resourceType, id: r.id, rows: extractIndexRows(r) })),
      );
    },

    indexRowsOf(resources: Resource[]) {
      return resources.map((r) => ({ resourceType: r.resourceType, id: r.id, rows: extractIndexRows(r) }));
    },

    async removeFromIndex(tx: Tx, resourceType: string, id: string): Promise<void> {
      await deleteIndexRows(tx, resourceType, id);
    },

    async findIds(executor: Db | Tx, resourceType: string, criteria: URLSearchParams, limit: number): Promise<string[]> {
      requireType(resourceType);
      return guard(async () => {
        const parsed = parse([resourceType], criteria, true);
        return matchIds(executor, { types: [resourceType], filter: parsed.filter }, limit);
      });
    },

    searchType(req: FhirRequest, resourceType: string): Promise<FhirResponse> {
      return guard(async () => {
        requireType(resourceType);
        return run(req, [resourceType], resourceType, undefined);
      });
    },

    searchSystem(req: FhirRequest): Promise<FhirResponse> {
      return guard(async () => {
        const raw = req.query.getAll('_type').flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
        const bad = raw.filter((t) => !isResourceType(t));
        if (bad.length) throw FhirError.badRequest(`Unknown resource type(s) in _type: ${bad.join(', ').slice(0, 200)}`, { expression: ['_type'], code: 'NHIS-1300' });
        const types = [...new Set(raw)];
        const response = await run(req, types, '', undefined, true);
        if (types.length && response.body && typeof response.body === 'object') {
          // Keep _type in the links.
          const b = response.body as { link: { url: string }[] };
          for (const l of b.link) l.url = l.url.replace('?', `?_type=${encodeURIComponent(types.join(','))}&`);
        }
        return response;
      });
    },

    searchCompartment(req: FhirRequest, compartmentType: string, compartmentId: string, resourceType: string): Promise<FhirResponse> {
      return guard(async () => {
        requireType(resourceType);
        if (compartmentType !== 'Patient') throw FhirError.badRequest(`Compartment ${compartmentType} is not supported`, { code: 'NHIS-1304' });
        const params = patientCompartmentParams(resourceType);
        if (!params.length && resourceType !== 'Patient') {
          throw FhirError.badRequest(`${resourceType} is not in the Patient compartment`, { code: 'NHIS-1304' });
        }
        const filter: Filter = { kind: 'compartment', type: 'Patient', id: compartmentId, params, includeSelf: resourceType === 'Patient' };
        return run(req, [resourceType], `${compartmentType}/${encodeURIComponent(compartmentId)}/${resourceType}`, filter);
      });
    },
  };
}
