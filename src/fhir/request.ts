import type { AccessGranted } from '../auth/decide';
import type { Principal } from '../auth/principal';
import type { AccessScope } from '../store/access/access-scope';

/**
 * A FHIR request independent of express: handlers take this and return a
 * `FhirResponse`, so they are testable without HTTP and reusable for
 * batch/transaction entries.
 */
export interface FhirRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  /** Path parameters from the route (`type`, `id`, `vid`, ...). */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body (may contain LosslessNumber values, see shared/json.ts). */
  body?: unknown;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** Absolute base URL of the FHIR endpoint, no trailing slash. */
  baseUrl: string;
  requestId: string;
  /** Who is asking (verified access token); absent only where auth is not mounted. */
  principal?: Principal;
  /** What `decide` granted for this request's own type and interaction (compartment, granular scope, view). */
  access?: AccessGranted;
  /** The caller's access scope over every type, which the store applies to everything it reads for this request. */
  scope?: AccessScope;
  /** The client's network address, for the audit trail. */
  clientIp?: string;
  /** The operation the route runs (`$accept`), for the audit of what it writes. */
  operation?: string;
}

export interface FhirResponse {
  status: number;
  headers?: Record<string, string>;
  /** A JSON value to serialise... */
  body?: unknown;
  /** ...or JSON text already serialised (stored resources are served as stored). */
  rawBody?: string;
}
