// https://hl7.org/fhir/R4/http.html#read — the national conformance resources shipped in fhir-profiles/
// (StructureDefinition, ValueSet, CodeSystem, NamingSystem) are read from there; any other id falls
// through to the stored resources, so conformance resources loaded by users stay readable.
import type { Handler } from '../route-types';
import { read } from '../interactions/read';
import { findConformanceResource } from '../../validation/conformance-resources';

/** A read of `resourceType/{id}` that serves the shipped resource of that id, else the stored one. */
export function shippedConformanceRead(resourceType: string): Handler {
  return async (ctx, req) => {
    const shipped = findConformanceResource(resourceType, req.params.id);
    if (shipped) return { status: 200, body: shipped };
    return read(ctx, { ...req, params: { ...req.params, type: resourceType } });
  };
}

export const structureDefinitionRead: Handler = shippedConformanceRead('StructureDefinition');
