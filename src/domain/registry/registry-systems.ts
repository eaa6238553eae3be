import type { NationalIdScheme } from '../../shared/national-id';
import { TEMPORARY_ID_SYSTEM } from '../identity/temporary-identifier';

import { FACILITY_CODE_SYSTEM, LOCATION_CODE_SYSTEM, PRACTITIONER_NUMBER_SYSTEM } from '../../shared/registry-systems';

export { FACILITY_CODE_SYSTEM, FACILITY_TYPE_SYSTEM, LOCATION_CODE_SYSTEM, PRACTITIONER_NUMBER_SYSTEM } from '../../shared/registry-systems';

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
