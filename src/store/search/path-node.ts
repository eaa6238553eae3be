/**
 * What a compiled search-parameter path yields for one resource: the node shape of fhirpath.js's
 * ResourceNode (data, type, path). Its own file so that the definitions and the direct-path
 * compiler both depend on it instead of on each other.
 */
export interface FhirPathNode {
  data: unknown;
  fhirNodeDataType?: string | null;
  path?: string;
}

export type CompiledPath = (resource: unknown) => FhirPathNode[];
