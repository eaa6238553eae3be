/**
 * SMART App Launch v2 scopes, with v1 `.read`/`.write`/`.*` mapped:
 * https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
 */
export type ScopeContext = 'patient' | 'user' | 'system';
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

const ORDER: Permission[] = ['c', 'r', 'u', 'd', 's'];
const V1: Record<string, Permission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };
const SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{1,63})\.([a-z*]+)(\?.*)?$/;
const V2_PERMS = /^c?r?u?d?s?$/;

export interface ResourceScope {
  context: ScopeContext;
  /** A resource type or `*`. */
  resourceType: string;
  permissions: ReadonlySet<Permission>;
  /** Granular restriction (`?category=...`); undefined means none. */
  query?: string;
}

/** Parses one resource scope; undefined for other scopes (openid, launch...) or malformed ones. */
export function parseScope(raw: string): ResourceScope | undefined {
  const m = SCOPE.exec(raw);
  if (!m) return undefined;
  const [, context, resourceType, perms, query] = m;
  let permissions: Permission[];
  if (V1[perms]) {
    if (query) return undefined; // v1 scopes have no granular form
    permissions = V1[perms];
  } else if (V2_PERMS.test(perms)) {
    permissions = [...perms] as Permission[];
  } else {
    return undefined;
  }
  let normalizedQuery: string | undefined;
  if (query) {
    const params = new URLSearchParams(query.slice(1));
    const keys = [...params.keys()];
    // Only token restrictions the spec describes for granular scopes.
    if (keys.length === 0 || keys.some((k) => !/^[a-z][a-z0-9-]*$/.test(k))) return undefined;
    params.sort();
    normalizedQuery = params.toString();
  }
  return { context: context as ScopeContext, resourceType, permissions: new Set(permissions), query: normalizedQuery };
}

export function formatScope(scope: ResourceScope): string {
  const perms = ORDER.filter((p) => scope.permissions.has(p)).join('');
  return `${scope.context}/${scope.resourceType}.${perms}${scope.query ? `?${scope.query}` : ''}`;
}

/** The one scope of an `operator` client: the client administration API (not a SMART resource scope). */
export const CLIENT_ADMIN_SCOPE = 'admin/clients';

export function parseScopeString(raw: string | undefined): string[] {
  return (raw ?? '').split(/\s+/).filter(Boolean);
}

/**
 * The part of `requested` that `allowed` covers, or undefined if none:
 * types meet (`*` yields the other), permissions intersect, and a granular
 * query is kept from whichever side has one (both having different ones: none).
 */
export function intersectScope(requested: ResourceScope, allowed: ResourceScope): ResourceScope | undefined {
  if (requested.context !== allowed.context) return undefined;
  let resourceType: string;
  if (requested.resourceType === '*') resourceType = allowed.resourceType;
  else if (allowed.resourceType === '*' || allowed.resourceType === requested.resourceType) resourceType = requested.resourceType;
  else return undefined;
  const permissions = new Set(ORDER.filter((p) => requested.permissions.has(p) && allowed.permissions.has(p)));
  if (permissions.size === 0) return undefined;
  let query: string | undefined;
  if (requested.query && allowed.query) {
    if (requested.query !== allowed.query) return undefined;
    query = requested.query;
  } else {
    query = requested.query ?? allowed.query;
  }
  return { context: requested.context, resourceType, permissions, query };
}

/**
 * Grants `requested ∩ allowed` (scope strings in, normalised v2 scope strings
 * out, without duplicates). Scopes of a context other than `contexts` are never
 * granted, nor are unparseable ones.
 */
export function grantScopes(requested: string[], allowed: string[], contexts: ScopeContext[]): string[] {
  const allowedParsed = allowed.map(parseScope).filter((s): s is ResourceScope => !!s);
  const granted = new Set<string>();
  if (contexts.includes('system') && requested.includes(CLIENT_ADMIN_SCOPE) && allowed.includes(CLIENT_ADMIN_SCOPE)) granted.add(CLIENT_ADMIN_SCOPE);
  for (const raw of requested) {
    const req = parseScope(raw);
    if (!req || !contexts.includes(req.context)) continue;
    for (const a of allowedParsed) {
      const both = intersectScope(req, a);
      if (both) granted.add(formatScope(both));
    }
  }
  return [...granted];
}

/** True if every scope is a well-formed resource scope of one of `contexts`. */
export function areValidScopes(scopes: string[], contexts: ScopeContext[]): boolean {
  return scopes.every((s) => {
    if (s === CLIENT_ADMIN_SCOPE) return contexts.includes('system');
    const p = parseScope(s);
    return !!p && contexts.includes(p.context);
  });
}
