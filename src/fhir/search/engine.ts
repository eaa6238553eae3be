import type { Db } from '../../repository/db';
import type { ResourceIndexRows } from '../../repository/search-index';
import type { Tx } from '../../repository/transaction';
import type { FhirRequest, FhirResponse } from '../request';

/**
 * The seam between the write path / conditional interactions and search.
 * Implemented in `search/` (index extraction at write time, SQL search).
 */
export interface SearchEngine {
  /**
   * Called inside the write transaction after a version is stored: replaces the
   * index rows of this resource with ones extracted from `resource`.
   */
  indexResource(tx: Tx, resource: { resourceType: string; id: string } & Record<string, unknown>): Promise<void>;
  /**
   * `indexResource` for many resources in one go (a Bundle's creates): all rows
   * are extracted first, then written with one DELETE and one multi-row INSERT
   * per index table (chunked under the bind-parameter limit).
   */
  indexResources(tx: Tx, resources: ({ resourceType: string; id: string } & Record<string, unknown>)[]): Promise<void>;
  /** The index rows of resources, for writers that store them with the resource in one statement. */
  indexRowsOf(resources: ({ resourceType: string; id: string } & Record<string, unknown>)[]): ResourceIndexRows[];
  /** Called inside the write transaction when a resource is deleted. */
  removeFromIndex(tx: Tx, resourceType: string, id: string): Promise<void>;
  /**
   * Ids of current (not deleted) resources of `resourceType` matching the FHIR
   * search `criteria` (e.g. `identifier=sys|val&active=true`), at most `limit`.
   * Unknown or malformed parameters throw a FhirError 400 naming the parameter
   * (conditional interactions are always strict).
   */
  findIds(executor: Db | Tx, resourceType: string, criteria: URLSearchParams, limit: number): Promise<string[]>;
  /** GET [base]?_type=A,B&... (https://hl7.org/fhir/R4/http.html#search) */
  searchSystem(req: FhirRequest): Promise<FhirResponse>;
  /** GET [base]/Patient/{id}/{type}?... (https://hl7.org/fhir/R4/compartmentdefinition.html) */
  searchCompartment(req: FhirRequest, compartmentType: string, compartmentId: string, resourceType: string): Promise<FhirResponse>;
  /** GET [type]?..., POST [type]/_search: a searchset Bundle. */
  searchType(req: FhirRequest, resourceType: string): Promise<FhirResponse>;
  /** Search parameters of a type, for the CapabilityStatement. */
  capabilitySearchParams?: (resourceType: string) => { name: string; type: "number" | "date" | "string" | "token" | "reference" | "composite" | "quantity" | "uri" | "special"; definition?: string; documentation?: string }[];
}
