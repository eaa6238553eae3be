import type { Config } from '../config/config';
import { assertAllowed, decide, type AccessGranted, type Interaction } from '../auth/decide';
import type { Principal } from '../auth/principal';
import { FhirError } from '../errors/fhir-error';
import { inPatientCompartment } from '../repository/compartment';
import type { Db } from '../repository/db';
import type { Tx } from '../repository/transaction';
import type { FhirContext } from './context';
import type { FhirRoute } from './routes';
import { patientCompartmentParams } from './search/definitions';

/**
 * Authorization below the routes: every FHIR interaction asks `decide` (the
 * one place with the rules), and reads confined to a patient's compartment
 * are checked against the search index, answering 404 exactly as for a
 * missing resource so that nothing outside the caller's rights can be probed.
 */
export function accessInteraction(route: Pick<FhirRoute, 'interaction' | 'method'>): Interaction | undefined {
  switch (route.interaction) {
    case 'read':
      return 'read';
    case 'vread':
      return 'vread';
    case 'search-type':
    case 'search-system':
    case 'search-compartment':
      return 'search';
    case 'create':
      return 'create';
    case 'update':
    case 'conditional-update':
      return 'update';
    case 'delete':
    case 'conditional-delete':
      return 'delete';
    case 'history-instance':
    case 'history-type':
    case 'history-system':
      return 'history';
    case 'operation':
      return 'operation';
    default:
      return undefined;
  }
}

export interface AccessOptions {
  registryMode: 'open' | 'closed';
}

/** The access options the configuration implies: REGISTRY_MODE=strict closes registry writes to clinical clients. */
export function accessOptionsOf(config: Pick<Config, 'registryMode'>): AccessOptions {
  return { registryMode: config.registryMode === 'strict' ? 'closed' : 'open' };
}

export function authorize(principal: Principal, interaction: Interaction, resourceType: string, opts: AccessOptions, operation?: string): AccessGranted {
  return assertAllowed(decide(principal, { interaction, resourceType, operation }, { registryMode: opts.registryMode }));
}

function notFound(resourceType: string, id: string): FhirError {
  return FhirError.notFound(`${resourceType}/${id} is not known`);
}

/** 404 unless the resource is in the caller's patient compartment. */
export async function assertInCompartment(db: Db | Tx, access: AccessGranted | undefined, resourceType: string, id: string): Promise<void> {
  if (!access?.patientCompartment) return;
  const keep = await inPatientCompartment(db, [{ resourceType, id, params: patientCompartmentParams(resourceType) }], access.patientCompartment);
  if (!keep.has(`${resourceType}/${id}`)) throw notFound(resourceType, id);
}

/** Drops entries of a searchset outside the caller's patient compartment (includes, system search). */
export async function filterBundleToCompartment(ctx: Pick<FhirContext, 'db'>, access: AccessGranted | undefined, body: unknown): Promise<void> {
  if (!access?.patientCompartment) return;
  const bundle = body as { entry?: { resource?: { resourceType: string; id: string }; search?: { mode?: string } }[] } | undefined;
  if (!bundle?.entry?.length) return;
  const refs = bundle.entry
    .filter((e) => e.resource && e.search?.mode !== 'outcome')
    .map((e) => ({ resourceType: e.resource!.resourceType, id: e.resource!.id, params: patientCompartmentParams(e.resource!.resourceType) }));
  const keep = await inPatientCompartment(ctx.db, refs, access.patientCompartment);
  bundle.entry = bundle.entry.filter((e) => !e.resource || e.search?.mode === 'outcome' || keep.has(`${e.resource.resourceType}/${e.resource.id}`));
}

/** Patient ids a resource concerns, for the audit trail. */
export function patientIdsOf(resource: unknown): string[] {
  const r = resource as { resourceType?: string; id?: string; subject?: { reference?: string }; patient?: { reference?: string }; beneficiary?: { reference?: string } } | undefined;
  if (!r || typeof r !== 'object') return [];
  if (r.resourceType === 'Patient' && typeof r.id === 'string') return [r.id];
  const ids = new Set<string>();
  for (const ref of [r.subject?.reference, r.patient?.reference, r.beneficiary?.reference]) {
    const m = typeof ref === 'string' ? /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref) : null;
    if (m) ids.add(m[1]);
  }
  return [...ids];
}

/**
 * The decision for one routed request. Bundles are authorized entry by entry
 * (bundle/authorize-entries.ts); the async status of a job is checked by the
 * job's owner in its handler.
 */
export function authorizeRoute(
  route: Pick<FhirRoute, 'interaction' | 'method' | 'operation' | 'level'>,
  req: { principal?: Principal; params: Record<string, string>; query: URLSearchParams; body?: unknown },
  opts: AccessOptions,
): AccessGranted | undefined {
  const principal = req.principal;
  if (!principal) return undefined;
  if (route.interaction === 'transaction') return undefined;
  const interaction = accessInteraction(route);
  if (!interaction) throw FhirError.forbidden(`No access rule covers ${route.interaction}`, { code: 'NHIS-1403' });
  if (route.interaction === 'operation' && !route.operation) {
    // Async job status: not for patient tokens; ownership is checked by the handler.
    if (principal.role === 'patient') throw FhirError.forbidden('Access denied by rule patient-read-only', { code: 'NHIS-1403' });
    return undefined;
  }
  const operation = route.operation ? `$${route.operation}` : undefined;
  if (route.interaction === 'search-compartment') {
    const granted = authorize(principal, 'search', req.params.compartmentType, opts);
    if (granted.patientCompartment && (req.params.type !== 'Patient' || req.params.id !== granted.patientCompartment)) {
      throw FhirError.notFound(`${req.params.type}/${req.params.id} is not known`);
    }
    return granted;
  }
  if (route.level === 'system') {
    const types = route.interaction === 'search-system' ? (req.query.get('_type') ?? '').split(',').filter(Boolean) : [];
    if (route.interaction === 'operation') {
      const body = req.body as { resourceType?: unknown } | undefined;
      types.push(typeof body?.resourceType === 'string' ? body.resourceType : 'Resource');
    }
    if (types.length === 0) types.push('*');
    let granted: AccessGranted | undefined;
    for (const t of types) granted = authorize(principal, interaction, t, opts, operation);
    return granted;
  }
  return authorize(principal, interaction, req.params.type, opts, operation);
}

/** Granular scopes (`?category=laboratory`): a read must match one of the allowed queries. */
export async function assertMatchesGrant(ctx: Pick<FhirContext, 'search' | 'db'>, access: AccessGranted | undefined, resourceType: string, id: string): Promise<void> {
  if (!access?.matchAny?.length) return;
  for (const q of access.matchAny) {
    const criteria = new URLSearchParams(q);
    criteria.set('_id', id);
    if ((await ctx.search.findIds(ctx.db, resourceType, criteria, 1)).length > 0) return;
  }
  throw notFound(resourceType, id);
}

/** Granular scopes on a search: the allowed query joins the caller's (one query, or one parameter with OR-ed values). */
export function narrowQuery(access: AccessGranted | undefined, query: URLSearchParams): URLSearchParams {
  if (!access?.matchAny?.length) return query;
  const grants = access.matchAny.map((q) => [...new URLSearchParams(q).entries()]);
  const narrowed = new URLSearchParams(query);
  if (grants.length === 1) {
    for (const [k, v] of grants[0]) narrowed.append(k, v);
    return narrowed;
  }
  const names = new Set(grants.map((g) => (g.length === 1 ? g[0][0] : '')));
  if (names.size === 1 && !names.has('')) {
    narrowed.append([...names][0], grants.map((g) => g[0][1]).join(','));
    return narrowed;
  }
  throw FhirError.forbidden('These granular scopes cannot be combined in one search; search per category', { code: 'NHIS-1403' });
}
