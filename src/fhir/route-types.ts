import type { FhirContext } from './context';
import type { FhirRequest, FhirResponse } from './request';

/** A FHIR interaction or operation: a plain request in, a plain response out (no express). */
export type Handler = (ctx: FhirContext, req: FhirRequest) => Promise<FhirResponse>;

/**
 * One entry of the FHIR route table (`./routes.ts`): the one list that express registration, the
 * CapabilityStatement and the OpenAPI document are all derived from, so what we advertise cannot
 * drift from what we serve.
 */
export interface FhirRoute {
  method: FhirRequest['method'];
  /** express 5 path, relative to the FHIR base. */
  path: string;
  /** FHIR interaction code (restful-interaction value set) or `operation`. */
  interaction: string;
  level: 'system' | 'type' | 'instance';
  /** For operations: the operation name without `$`. */
  operation?: string;
  /**
   * The resource types a `:type` route serves (an operation defined on one type); any other type
   * in the URL is 404. Absent: every type. The OpenAPI document and CapabilityStatement follow it.
   */
  types?: readonly string[];
  /** Operation-specific error statuses and when they happen, for the OpenAPI document. */
  errors?: Readonly<Record<number, string>>;
  handler: Handler;
}
