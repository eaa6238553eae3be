/** The roles of the exchange; these names are used in configuration, tokens and docs. */
/**
 * `operator` administers the exchange's clients (register, change keys, deactivate): a duty of its own,
 * apart from keeping registries, with no access to any FHIR data.
 */
export const ROLES = ['hospital', 'prescriber', 'pharmacy', 'laboratory', 'registry-admin', 'analyst', 'auditor', 'operator', 'patient'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Resource types whose writes belong to the registries (identity and registries issue). */
export const REGISTRY_TYPES: ReadonlySet<string> = new Set([
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Location',
  'HealthcareService',
]);
