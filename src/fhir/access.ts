import type { Config } from '../config/config';
import { assertAllowed, decide, type AccessGranted, type Interaction } from '../auth/decide';
import type { Principal } from '../auth/principal';
import { FhirError } from '../errors/fhir-error';
import { callerScope, type AccessScope } from '../store/access/access-scope';
import type { Writer } from '../store/write/writer';
import type { FhirRequest } from './request';
import type { FhirRoute } from './route-types';

/**
 * Authorization of a routed request. Two parts, both from `decide()` alone:
 * - the request's own interaction on its own type: a role or scope that does not allow it at all
 *   is a 403 naming the rule, before anything is read;
 * - the request's access scope, handed to every store read the request makes (including, chains,
 *   batch entries, conditional matches): compartment, granular scopes and views are applied there,
 *   in SQL, and anything outside them answers as if it did not exist.
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

/** Every type a system search names (`_type=A,B&_type=C`), each authorized. */
export function typesOfSystemSearch(query: URLSearchParams): string[] {
  return [...new Set(query.getAll('_type').flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean))];
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
    // Every type named is authorized, not only the first.
    const types = route.interaction === 'search-system' ? typesOfSystemSearch(req.query) : [];
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

/**
 * The access scope of a request: what the store lets it see. Without a principal nothing is
 * visible (default deny: such a request never reaches a handler through HTTP).
 */
export function scopeOf(ctx: { config: Pick<Config, 'registryMode'> }, req: Pick<FhirRequest, 'principal' | 'scope'>): AccessScope {
  if (req.scope) return req.scope;
  if (!req.principal) throw FhirError.unauthorized('An access token is required', { headers: { 'WWW-Authenticate': 'Bearer' } });
  return callerScope(req.principal, accessOptionsOf(ctx.config));
}

/** Who writes, for the store's write path: the request's principal, acting as a client. */
export function writerOf(req: Pick<FhirRequest, 'principal' | 'requestId' | 'clientIp' | 'access' | 'operation'>): Writer {
  return { principal: req.principal, requestId: req.requestId, clientIp: req.clientIp, origin: 'client', rule: req.access?.rule, operation: req.operation };
}
