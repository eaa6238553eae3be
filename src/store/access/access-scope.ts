import { decide, type AccessView, type DecideOptions } from '../../auth/decide';
import type { Principal } from '../../auth/principal';

/**
 * What a caller may see, as the store applies it: every read function of the store takes an
 * AccessScope and turns it into SQL (./access-filter.ts), so a resource the caller may not read is
 * never fetched, counted or matched, whichever path the request took (read, search, include,
 * chain, `_has`, batch entry, conditional match). The rules themselves are `decide()`'s alone:
 * a caller's scope only asks it, type by type, and remembers the answer for the request.
 */
export interface TypeAccess {
  /** Only resources in this Patient's compartment (patient tokens). */
  patientCompartment?: string;
  /** Granular scopes (`?category=laboratory`): a resource must match one of these search queries. */
  matchAny?: string[];
  /** A subset of the resource is served (see ./views.ts). */
  view?: AccessView;
  /** The rule that allowed it, for the audit trail. */
  rule: string;
}

/**
 * `read`: the caller may receive the resource (read, vread, includes); `search`: it may select by
 * its values; `create`, `update`, `delete`: it may write it (a granular scope confines writes too).
 */
export type AccessUse = 'read' | 'search' | 'create' | 'update' | 'delete';

export interface AccessScope {
  /** `caller`: a request's principal; `server`: the server's own work (workflow steps, jobs, hooks). */
  readonly kind: 'caller' | 'server';
  readonly principal?: Principal;
  /** The access to `type` for `use`; undefined when the scope gives none. */
  on(type: string, use: AccessUse): TypeAccess | undefined;
}

const SERVER_ACCESS: TypeAccess = { rule: 'server' };

/**
 * The server's own reads: a workflow step reading the Task it is changing, a write hook checking
 * that a reference resolves, the expiry job. Never handed to a caller's request.
 */
export const SERVER_SCOPE: AccessScope = { kind: 'server', on: () => SERVER_ACCESS };

/** The scope of a request by `principal`, memoising decide()'s answer per type and use. */
export function callerScope(principal: Principal, opts: DecideOptions = {}): AccessScope {
  const memo = new Map<string, TypeAccess | null>();
  return {
    kind: 'caller',
    principal,
    on(type, use) {
      const key = `${use} ${type}`;
      let access = memo.get(key);
      if (access === undefined) {
        const decision = decide(principal, { interaction: use, resourceType: type }, opts);
        access = decision.allowed
          ? { rule: decision.rule, patientCompartment: decision.patientCompartment, matchAny: decision.matchAny, view: decision.view }
          : null;
        memo.set(key, access);
      }
      return access ?? undefined;
    },
  };
}

/** True when the scope restricts nothing on `type` (no compartment, no granular scope, no view). */
export function isUnrestricted(access: TypeAccess): boolean {
  return !access.patientCompartment && !access.matchAny && !access.view;
}
