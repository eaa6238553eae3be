// https://hl7.org/fhir/R4/http.html#search — search-type, search-system, compartment search, and the audit trail's search.
import { FhirError } from '../../errors/fhir-error';
import { searchAuditEvents } from '../../store/audit/audit-search';
import { isResourceType, patientCompartmentParams } from '../../store/search/definitions';
import { encodeCursor } from '../../store/search/cursor';
import { searchResources, type FoundResource, type SearchRequest, type SearchResult } from '../../store/search/search-resources';
import { applyElements, applySummary } from '../../store/search/subset';
import { AUDIT_EVENT } from '../../store/stored-types';
import { scopeOf, typesOfSystemSearch } from '../access';
import { assertNationalIdCriteria } from '../national-id-criteria';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import type { Handler } from '../route-types';

/** Most resources `_include`/`_revinclude` add to one page. */
const MAX_INCLUDED = 1000;

function requireSearchType(type: string | undefined): string {
  if (!type || !isResourceType(type)) throw FhirError.notFound(`Unknown resource type '${type ?? ''}'`, { code: 'NHIS-1303' });
  return type;
}

function isStrict(req: FhirRequest): boolean {
  return /(^|[;,\s])handling\s*=\s*strict\b/i.test(req.headers['prefer'] ?? '');
}

function presented(found: FoundResource, parsed: SearchResult['parsed']): Record<string, unknown> {
  const r = found.resource;
  if (parsed.summary === 'true' || parsed.summary === 'text' || parsed.summary === 'data') return applySummary(r, parsed.summary);
  if (parsed.elements?.length) return applyElements(r, parsed.elements);
  return r;
}

/** The searchset Bundle of a result: matches, includes, links (keyset paging), total and any ignored parameters. */
function searchset(req: FhirRequest, result: SearchResult, linkPath: string, extraLinkParams: [string, string][] = []): FhirResponse {
  const { parsed } = result;
  const base = `${req.baseUrl}${linkPath ? `/${linkPath}` : ''}`;
  const link = (extra: [string, string][]) => {
    const params = new URLSearchParams([...extraLinkParams, ...parsed.used.filter(([k]) => k !== '_count'), ['_count', String(parsed.count)], ...extra]);
    return `${base}?${params.toString()}`;
  };
  const links: { relation: string; url: string }[] = [{ relation: 'self', url: link(parsed.cursor && result.paged ? [['_cursor', parsed.cursor]] : []) }];
  const { matches } = result;
  if (result.hasNext && matches.length) {
    const last = matches[matches.length - 1];
    links.push({ relation: 'next', url: link([['_cursor', encodeCursor({ values: last.keys, type: last.type, id: last.id, backward: false }, parsed.sortText)]]) });
  }
  if (result.hasPrevious && matches.length) {
    const first = matches[0];
    links.push({ relation: 'previous', url: link([['_cursor', encodeCursor({ values: first.keys, type: first.type, id: first.id, backward: true }, parsed.sortText)]]) });
  }
  const entry: Record<string, unknown>[] = [
    ...matches.map((r) => ({ fullUrl: `${req.baseUrl}/${r.type}/${r.id}`, resource: presented(r, parsed), search: { mode: 'match' } })),
    ...result.included.map((r) => ({ fullUrl: `${req.baseUrl}/${r.type}/${r.id}`, resource: presented(r, parsed), search: { mode: 'include' } })),
  ];
  return searchsetResponse(entry, result.total, links, parsed.issues);
}

/**
 * The searchset Bundle itself: entries, total, links, and the parameters that were ignored
 * (lenient handling) reported in an OperationOutcome entry.
 */
function searchsetResponse(
  entry: Record<string, unknown>[],
  total: number | undefined,
  links: { relation: string; url: string }[],
  issues: { param: string; message: string; severity: 'error' | 'warning' | 'information' }[],
): FhirResponse {
  if (issues.length) {
    entry.push({
      resource: {
        resourceType: 'OperationOutcome',
        issue: issues.map((i) => ({
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

function request(ctx: FhirContext, req: FhirRequest, types: string[], extra: Partial<SearchRequest> = {}): SearchRequest {
  return { types, query: req.query, strict: isStrict(req), now: ctx.clock.now().getTime(), maxIncluded: MAX_INCLUDED, ...extra };
}

/** GET [base]/AuditEvent?...: the audit trail's own search. */
const searchAuditTrail: Handler = async (ctx, req) => {
  const result = await searchAuditEvents(ctx.db, scopeOf(ctx, req), req.query, { strict: isStrict(req) });
  const base = `${req.baseUrl}/${AUDIT_EVENT}`;
  const link = (extra: [string, string][]) => `${base}?${new URLSearchParams([...result.used.filter(([k]) => k !== '_count'), ['_count', String(result.count)], ...extra])}`;
  const links = [{ relation: 'self', url: link(req.query.has('_cursor') ? [['_cursor', req.query.get('_cursor')!]] : []) }];
  if (result.next) links.push({ relation: 'next', url: link([['_cursor', result.next]]) });
  const entry: Record<string, unknown>[] = result.events.map((e) => ({ fullUrl: `${base}/${e.id}`, resource: e, search: { mode: 'match' } }));
  return searchsetResponse(entry, result.total, links, result.ignored.map((i) => ({ ...i, severity: 'error' as const })));
};

/** GET [base]/[type]?..., POST [base]/[type]/_search. A patient's search is their compartment's. */
export const searchType: Handler = async (ctx, req) => {
  const type = requireSearchType(req.params.type);
  assertNationalIdCriteria(ctx, req.query);
  if (type === AUDIT_EVENT) return searchAuditTrail(ctx, req);
  const result = await searchResources(ctx.db, scopeOf(ctx, req), request(ctx, req, [type]));
  return searchset(req, result, type);
};

/** GET [base]?_type=A,B&... (https://hl7.org/fhir/R4/http.html#search) */
export const searchSystem: Handler = async (ctx, req) => {
  assertNationalIdCriteria(ctx, req.query);
  const types = typesOfSystemSearch(req.query);
  const unknown = types.filter((t) => !isResourceType(t));
  if (unknown.length) throw FhirError.badRequest(`Unknown resource type(s) in _type: ${unknown.join(', ').slice(0, 200)}`, { expression: ['_type'], code: 'NHIS-1300' });
  const result = await searchResources(ctx.db, scopeOf(ctx, req), request(ctx, req, types, { systemLevel: true }));
  return searchset(req, result, '', types.length ? [['_type', types.join(',')]] : []);
};

/** GET [base]/Patient/{id}/{type}?... (https://hl7.org/fhir/R4/compartmentdefinition.html) */
export const searchCompartment: Handler = async (ctx, req) => {
  const compartmentType = req.params.type;
  const compartmentId = req.params.id;
  const type = requireSearchType(req.params.compartmentType);
  assertNationalIdCriteria(ctx, req.query);
  if (compartmentType !== 'Patient') throw FhirError.badRequest(`Compartment ${compartmentType} is not supported`, { code: 'NHIS-1304' });
  if (type === AUDIT_EVENT) throw FhirError.badRequest('A patient\'s audit trail is searched at GET /AuditEvent?patient=Patient/{id}', { code: 'NHIS-1304' });
  if (!patientCompartmentParams(type).length && type !== 'Patient') throw FhirError.badRequest(`${type} is not in the Patient compartment`, { code: 'NHIS-1304' });
  const result = await searchResources(ctx.db, scopeOf(ctx, req), request(ctx, req, [type], { compartment: { type: 'Patient', id: compartmentId } }));
  return searchset(req, result, `${compartmentType}/${encodeURIComponent(compartmentId)}/${type}`);
};
