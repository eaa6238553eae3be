// Patient/$everything (https://hl7.org/fhir/R4/patient-operation-everything.html): a patient's whole
// record in one searchset, paged by keyset so a record of any size can be fetched completely.
import type { Bundle, BundleEntry, BundleLink } from '@medplum/fhirtypes';
import { FhirError } from '../../errors/fhir-error';
import { parseJson } from '../../shared/json';
import { RESOURCE_TYPES } from '../../shared/resource-types';
import { readPatientRecord } from '../../store/patient-record';
import { scopeOf } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';

const DEFAULT_COUNT = 1000;
const MAX_COUNT = 5000;
function badParam(name: string, why: string): FhirError {
  return FhirError.badRequest(`${name}: ${why}`, { expression: [name], code: 'NHIS-1302' });
}

function parseCount(raw: string | null): number {
  if (raw === null) return DEFAULT_COUNT;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) throw badParam('_count', 'must be a positive integer');
  return Math.min(Number(raw), MAX_COUNT);
}

function parseSince(raw: string | null): Date | undefined {
  if (raw === null) return undefined;
  const d = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw) || Number.isNaN(d.getTime())) {
    throw badParam('_since', 'must be an instant with a time zone, e.g. 2026-01-01T00:00:00Z');
  }
  return d;
}

function parseCursor(raw: string | null): { resourceType: string; id: string } | undefined {
  if (raw === null) return undefined;
  const [t, i] = Buffer.from(raw, 'base64url').toString('utf8').split('/');
  if (!t || !i || !RESOURCE_TYPES.includes(t) || !/^[A-Za-z0-9\-.]{1,64}$/.test(i)) throw badParam('_cursor', 'invalid; restart from the first page');
  return { resourceType: t, id: i };
}

export async function patientEverything(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const patientId = req.params.id;
  if (req.access?.matchAny) throw FhirError.forbidden('Patient/$everything needs unrestricted read scopes, not granular ones', { code: 'NHIS-1403' });
  const requested = req.query.get('_type')?.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of requested ?? []) if (!RESOURCE_TYPES.includes(t)) throw badParam('_type', `unknown resource type ${t}`);
  const count = parseCount(req.query.get('_count'));
  const since = parseSince(req.query.get('_since'));
  // Only what this client may read: a role or scope that does not cover a type leaves it out.
  const rows = await readPatientRecord(ctx.db, scopeOf(ctx, req), patientId, { types: requested, since, after: parseCursor(req.query.get('_cursor')), limit: count + 1 });
  if (!rows) throw FhirError.notFound(`Patient/${patientId} is not known`);

  const page = rows.slice(0, count);
  const entry: BundleEntry[] = page.map((r) => ({ fullUrl: `${req.baseUrl}/${r.resource_type}/${r.id}`, resource: parseJson(r.content) as BundleEntry['resource'], search: { mode: 'match' } }));
  const self = new URLSearchParams(req.query);
  const link: BundleLink[] = [{ relation: 'self', url: `${req.baseUrl}/Patient/${patientId}/$everything${self.size ? `?${self}` : ''}` }];
  if (rows.length > count) {
    const last = page[page.length - 1];
    const next = new URLSearchParams(req.query);
    next.set('_cursor', Buffer.from(`${last.resource_type}/${last.id}`, 'utf8').toString('base64url'));
    link.push({ relation: 'next', url: `${req.baseUrl}/Patient/${patientId}/$everything?${next}` });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', link, entry };
  if (rows.length <= count && !req.query.has('_cursor')) bundle.total = entry.length;
  return { status: 200, body: bundle };
}
