import type { NationalIdScheme } from '../../shared/national-id';
import { TEMPORARY_ID_SYSTEM } from '../identity/temporary-identifier';

/** National registry code systems (NamingSystems in fhir-profiles/). */
export const PRACTITIONER_NUMBER_SYSTEM = 'http://opennhis.org/fhir/sid/practitioner-number';
export const FACILITY_CODE_SYSTEM = 'http://opennhis.org/fhir/sid/facility-code';
export const LOCATION_CODE_SYSTEM = 'http://opennhis.org/fhir/sid/location-code';
/** Organization.type codes: hospital, gp-practice, specialist-practice, pharmacy, laboratory. */
export const FACILITY_TYPE_SYSTEM = 'http://opennhis.org/fhir/CodeSystem/facility-type';

/** Types a clinical reference must resolve to in the registry. */
export const REGISTRY_TARGET_TYPES: ReadonlySet<string> = new Set(['Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Location']);

/** The registry type an identifier system names, so `Reference.identifier` without `Reference.type` still resolves. */
export function registryTypeOfSystem(system: string, schemes: readonly NationalIdScheme[]): string | undefined {
  if (system === PRACTITIONER_NUMBER_SYSTEM) return 'Practitioner';
  if (system === FACILITY_CODE_SYSTEM) return 'Organization';
  if (system === LOCATION_CODE_SYSTEM) return 'Location';
  if (system === TEMPORARY_ID_SYSTEM || schemes.some((s) => s.system === system)) return 'Patient';
  return undefined;
}
