import { FhirError } from '../../errors/fhir-error';
import { ANY_RESOURCE, NO_RESOURCE, type Filter } from '../../repository/search-query';
import { patientCompartmentPairs, patientCompartmentParams } from '../search/definitions';
import { parseSearch } from '../search/parse-query';
import { STORED_TYPES } from '../stored-types';
import type { AccessScope, AccessUse, TypeAccess } from './access-scope';
import { viewAllowsParam } from './views';

/**
 * An access scope as a search filter: the SQL condition a row must pass to be visible. Used on
 * the rows a search selects, on included rows, inside every chain and `_has` (the resources they
 * test), on counts, conditional matches and reads by id. Nothing outside it reaches the caller,
 * not even as a count.
 */

const grantFilters = new Map<string, Filter>();

/** One granular scope's query on `type`, parsed once; a query that means nothing on the type lets nothing through. */
function grantFilter(type: string, query: string): Filter {
  const key = `${type}?${query}`;
  let f = grantFilters.get(key);
  if (!f) {
    const parsed = parseSearch([type], new URLSearchParams(query), { now: 0 });
    f = parsed.issues.some((i) => i.severity === 'error') ? NO_RESOURCE : parsed.filter;
    grantFilters.set(key, f);
  }
  return f;
}

function compartmentFilter(type: string, patientId: string): Filter {
  const params = patientCompartmentParams(type);
  if (params.length === 0 && type !== 'Patient') return NO_RESOURCE;
  return { kind: 'compartment', type: 'Patient', id: patientId, params, includeSelf: type === 'Patient' };
}

/** The condition on a resource of `type` (the type itself already known) that `access` sets. */
export function typeAccessFilter(access: TypeAccess | undefined, type: string): Filter {
  if (!access) return NO_RESOURCE;
  const parts: Filter[] = [];
  if (access.patientCompartment) parts.push(compartmentFilter(type, access.patientCompartment));
  if (access.matchAny) parts.push({ kind: 'or', filters: access.matchAny.map((q) => grantFilter(type, q)) });
  return parts.length === 0 ? ANY_RESOURCE : parts.length === 1 ? parts[0] : { kind: 'and', filters: parts };
}

/**
 * The condition on the rows of a search over `types` (empty: every stored type). Types with the
 * same (lack of) restriction are grouped, so the common cases stay one short condition.
 */
export function scopeFilter(scope: AccessScope, types: readonly string[], use: AccessUse): Filter {
  const all = types.length === 0;
  const candidates = all ? STORED_TYPES : types;
  const open: string[] = [];
  const closed: string[] = [];
  const confined = new Map<string, TypeAccess>();
  for (const t of candidates) {
    const access = scope.on(t, use);
    if (!access) closed.push(t);
    else if (!access.patientCompartment && !access.matchAny) open.push(t);
    else confined.set(t, access);
  }
  if (confined.size === 0) {
    if (closed.length === 0) return ANY_RESOURCE;
    return { kind: 'resourceTypes', types: open };
  }
  // A patient token: one compartment condition for every type, instead of one per type.
  const patients = new Set([...confined.values()].map((a) => a.patientCompartment));
  const onlyCompartment = [...confined.values()].every((a) => a.patientCompartment && !a.matchAny);
  if (open.length === 0 && onlyCompartment && patients.size === 1) {
    const patientId = [...patients][0]!;
    const typed: Filter = { kind: 'resourceTypes', types: [...confined.keys()] };
    return { kind: 'and', filters: [typed, { kind: 'patientCompartment', patientId, pairs: patientCompartmentPairs() }] };
  }
  const branches: Filter[] = open.length ? [{ kind: 'resourceTypes', types: open }] : [];
  for (const [t, access] of confined) branches.push({ kind: 'and', filters: [{ kind: 'resourceType', type: t }, typeAccessFilter(access, t)] });
  return { kind: 'or', filters: branches };
}

/**
 * Puts the scope inside the criteria themselves: every chain target and every `_has` source is
 * tested only among the resources the caller may search, so a criterion over a type the caller
 * may not see can match nothing and tells nothing. A type served through a view can be selected
 * only by the elements the view shows.
 */
export function confineCriteria(scope: AccessScope, type: string, filter: Filter): Filter {
  assertViewAllows(scope, type, filter);
  return confine(scope, filter);
}

function confine(scope: AccessScope, f: Filter): Filter {
  switch (f.kind) {
    case 'chain':
      return {
        ...f,
        targets: f.targets.map((t) => {
          assertViewAllows(scope, t.type, t.filter);
          return { type: t.type, filter: { kind: 'and', filters: [confine(scope, t.filter), typeAccessFilter(scope.on(t.type, 'search'), t.type)] } };
        }),
      };
    case 'has': {
      assertViewAllows(scope, f.sourceType, f.filter);
      return { ...f, filter: { kind: 'and', filters: [confine(scope, f.filter), typeAccessFilter(scope.on(f.sourceType, 'search'), f.sourceType)] } };
    }
    case 'and':
    case 'or':
      return { ...f, filters: f.filters.map((x) => confine(scope, x)) };
    default:
      return f;
  }
}

/**
 * Criteria on a type served through a view may use only the parameters of what the view shows.
 * A search over several types holds one branch per type (`resourceType` and its criterion): each
 * branch is checked against its own type's view.
 */
function assertViewAllows(scope: AccessScope, type: string, filter: Filter): void {
  if (filter.kind === 'or' || filter.kind === 'and') {
    const typed = filter.filters.find((x): x is Extract<Filter, { kind: 'resourceType' }> => x.kind === 'resourceType');
    if (typed) {
      for (const x of filter.filters) if (x !== typed) assertViewAllows(scope, typed.type, x);
      return;
    }
    if (filter.filters.some((x) => x.kind === 'and' || x.kind === 'or')) {
      for (const x of filter.filters) assertViewAllows(scope, type, x);
      return;
    }
  }
  const view = type === '*' ? undefined : scope.on(type, 'search')?.view;
  if (!view) return;
  for (const param of directParams(filter)) {
    if (!viewAllowsParam(view, type, param)) {
      throw FhirError.forbidden(`Access denied by rule view-${view}: ${type} may be searched by ${describeAllowed(view, type)} only, not '${param}'`, {
        code: 'NHIS-1403',
        expression: [param],
      });
    }
  }
}

function describeAllowed(view: TypeAccess['view'], type: string): string {
  return view === 'demographics' ? `its demographic parameters` : `the parameters of its view on ${type}`;
}

/** Parameters a filter tests on the resource itself (chains and `_has` name the parameter that links). */
function directParams(f: Filter): string[] {
  switch (f.kind) {
    case 'values':
    case 'missing':
    case 'composite':
    case 'chain':
      return [f.param.split(':')[0]];
    case 'has':
      return [`_has:${f.sourceType}`];
    case 'and':
    case 'or':
      return f.filters.flatMap(directParams);
    default:
      return [];
  }
}
