import { FhirError } from '../../errors/fhir-error';
import type { ResourceBody } from '../../store/resource-body';
import { requireResource } from '../../store/resource-body';

/**
 * Operation bodies of the ePrescription workflow: one resource, a Bundle of
 * them (entry.resource) or a Parameters (parameter.resource).
 */
export function resourcesOf(body: unknown, type: string, required: boolean): ResourceBody[] {
  if (body === undefined || body === null) {
    if (required) throw FhirError.badRequest(`A ${type}, or a Bundle or Parameters of them, is required`, { code: 'NHIS-1002' });
    return [];
  }
  const resource = requireResource(body);
  let found: unknown[];
  if (resource.resourceType === type) found = [resource];
  else if (resource.resourceType === 'Bundle') found = ((resource.entry as { resource?: unknown }[] | undefined) ?? []).map((e) => e.resource);
  else if (resource.resourceType === 'Parameters') found = ((resource.parameter as { resource?: unknown }[] | undefined) ?? []).filter((p) => p.resource).map((p) => p.resource);
  else throw FhirError.badRequest(`Expected ${type}, Bundle or Parameters, got ${resource.resourceType}`, { code: 'NHIS-1004', expression: ['resourceType'] });
  const out = found.map((r, i) => {
    const res = requireResource(r);
    if (res.resourceType !== type) throw FhirError.badRequest(`Entry ${i} is a ${res.resourceType}, expected ${type}`, { code: 'NHIS-1004', expression: [`${resource.resourceType}.entry[${i}]`] });
    return res;
  });
  if (required && out.length === 0) throw FhirError.badRequest(`No ${type} in the body`, { code: 'NHIS-1002' });
  return out;
}

/** Responses carrying an access code or a claim secret are never cached or stored by intermediaries. */
export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
