import type { IndexRows } from '../../repository/search-schema';
import { patientCompartmentParams } from './definitions';
import { extractIndexRows } from './extract-index';

/**
 * The Patients a resource belongs to, by the Patient CompartmentDefinition
 * (https://hl7.org/fhir/R4/compartmentdefinition-patient.html): the same membership the access
 * rules use, so the audit trail names exactly the patients whose compartment the data is in.
 */
export function patientsOfIndexRows(resourceType: string, id: string, rows: IndexRows): string[] {
  if (resourceType === 'Patient') return [id];
  const params = patientCompartmentParams(resourceType);
  if (params.length === 0) return [];
  const ids = new Set<string>();
  for (const r of rows.reference) if (r.target_type === 'Patient' && r.target_id && params.includes(r.param)) ids.add(r.target_id);
  return [...ids];
}

/** The same from the resource itself (only its compartment parameters are evaluated). */
export function patientsOfResource(resource: { resourceType: string; id?: string } & Record<string, unknown>): string[] {
  if (resource.resourceType === 'Patient') return typeof resource.id === 'string' ? [resource.id] : [];
  const params = patientCompartmentParams(resource.resourceType);
  if (params.length === 0) return [];
  return patientsOfIndexRows(resource.resourceType, '', extractIndexRows(resource, { only: params }));
}
