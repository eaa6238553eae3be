// https://hl7.org/fhir/R4/http.html#history (instance, type and system level)
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { FhirError } from '../../errors/fhir-error';
import { parseJson } from '../../shared/json';
import { readAuditEvent } from '../../store/audit/audit-search';
import { readResourceHistory } from '../../store/read';
import { requireKnownType, requireValidId } from '../../store/resource-body';
import { AUDIT_EVENT } from '../../store/stored-types';
import { scopeOf } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';

const DEFAULT_COUNT = 50;
const MAX_COUNT = 1000;

function parseInstant(name: string, raw: string | null): Date | undefined {
  if (raw === null) return undefined;
  if (!/^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.test(raw) || Number.isNaN(Date.parse(raw))) {
    throw FhirError.badRequest(`${name} must be a FHIR instant, not '${raw}'`, { code: 'NHIS-1020', expression: [name] });
  }
  return new Date(raw);
}

function parseCount(raw: string | null): number {
  if (raw === null) return DEFAULT_COUNT;
  if (!/^\d{1,6}$/.test(raw)) throw FhirError.badRequest(`_count must be a non-negative integer, not '${raw}'`, { code: 'NHIS-1021', expression: ['_count'] });
  return Math.min(Number(raw), MAX_COUNT);
}

async function historyBundle(ctx: FhirContext, req: FhirRequest, selfPath: string, resourceType?: string, id?: string): Promise<FhirResponse> {
  const count = parseCount(req.query.get('_count'));
  const since = parseInstant('_since', req.query.get('_since'));
  const at = parseInstant('_at', req.query.get('_at'));
  const cursor = req.query.get('_cursor');
  if (cursor !== null && !/^\d{1,19}$/.test(cursor)) throw FhirError.badRequest('Invalid _cursor', { code: 'NHIS-1022', expression: ['_cursor'] });
  const page = await readResourceHistory(ctx.db, scopeOf(ctx, req), { resourceType, id, since, at, count, beforeSeq: cursor ?? undefined });
  if (!page) throw FhirError.notFound(`${resourceType}/${id ?? ''} is not known`);

  const entry: BundleEntry[] = page.entries.map((v) => {
    const url = `${v.resourceType}/${v.id}`;
    const e: BundleEntry = {
      fullUrl: `${req.baseUrl}/${url}`,
      request: { method: v.method === 'delete' ? 'DELETE' : v.method === 'create' ? 'POST' : 'PUT', url: v.method === 'create' ? v.resourceType : url },
      response: {
        status: v.method === 'create' ? '201 Created' : v.method === 'delete' ? '204 No Content' : '200 OK',
        etag: `W/"${v.versionId}"`,
        lastModified: v.lastUpdated.toISOString(),
      },
    };
    if (v.content !== null) e.resource = parseJson(v.content) as BundleEntry['resource'];
    return e;
  });

  const keep = new URLSearchParams(req.query);
  keep.delete('_cursor');
  const link: Bundle['link'] = [{ relation: 'self', url: `${req.baseUrl}/${selfPath}${req.query.toString() ? `?${req.query}` : ''}` }];
  if (page.hasMore && page.entries.length > 0) {
    keep.set('_cursor', page.entries[page.entries.length - 1].seq);
    link.push({ relation: 'next', url: `${req.baseUrl}/${selfPath}?${keep}` });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'history', link, entry };
  return { status: 200, body: bundle };
}

export async function historyInstance(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const id = requireValidId(req.params.id);
  if (type === AUDIT_EVENT) return auditEventHistory(ctx, req, id);
  return historyBundle(ctx, req, `${type}/${id}/_history`, type, id);
}

/** An AuditEvent never changes: its history is its one version. */
async function auditEventHistory(ctx: FhirContext, req: FhirRequest, id: string): Promise<FhirResponse> {
  const event = await readAuditEvent(ctx.db, scopeOf(ctx, req), id);
  if (!event) throw FhirError.notFound(`${AUDIT_EVENT}/${id} is not known`);
  const entry: BundleEntry = {
    fullUrl: `${req.baseUrl}/${AUDIT_EVENT}/${id}`,
    resource: event,
    request: { method: 'POST', url: AUDIT_EVENT },
    response: { status: '201 Created', etag: 'W/"1"', lastModified: event.recorded },
  };
  const bundle: Bundle = { resourceType: 'Bundle', type: 'history', link: [{ relation: 'self', url: `${req.baseUrl}/${AUDIT_EVENT}/${id}/_history` }], entry: [entry] };
  return { status: 200, body: bundle };
}

export async function historyType(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  if (type === AUDIT_EVENT) throw FhirError.badRequest('The audit trail has no type history: search it with GET /AuditEvent?date=...&_sort=-date', { code: 'NHIS-1305' });
  refuseConfinedHistory(req);
  return historyBundle(ctx, req, `${type}/_history`, type);
}

/** Type and system history cannot be confined to one patient or one category; such callers read instance history. */
function refuseConfinedHistory(req: FhirRequest): void {
  if (req.access?.patientCompartment || req.access?.matchAny) {
    throw FhirError.forbidden('Type and system history are not available to patient-confined or granular-scope tokens', { code: 'NHIS-1403' });
  }
}

export async function historySystem(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  refuseConfinedHistory(req);
  return historyBundle(ctx, req, '_history');
}
