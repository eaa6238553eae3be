import type { NationalIdScheme } from '../../shared/national-id';
import { schemeForSystem } from '../../shared/national-id';

/** Identifier.system of registry-issued temporary patient numbers (newborns, unidentified emergency patients). */
export const TEMPORARY_ID_SYSTEM = 'http://opennhis.org/fhir/sid/temporary';

interface IdentifierLike {
  system?: unknown;
  value?: unknown;
}

/**
 * A Patient that carries neither a national identifier nor a temporary one
 * gets a temporary identifier (`use: temp`), so every registered patient can be
 * addressed by identifier and later linked or merged. Mutates `resource` in
 * place (it runs on the body about to be stored, before it is stamped) and
 * returns whether it added one.
 */
export function assignTemporaryIdentifier(
  resource: { resourceType: string; identifier?: unknown },
  schemes: readonly NationalIdScheme[],
  newValue: () => string,
): boolean {
  if (resource.resourceType !== 'Patient') return false;
  const ids = Array.isArray(resource.identifier) ? (resource.identifier as IdentifierLike[]) : [];
  const identified = ids.some(
    (i) => typeof i?.value === 'string' && typeof i.system === 'string' && (i.system === TEMPORARY_ID_SYSTEM || schemeForSystem(schemes, i.system) !== undefined),
  );
  if (identified) return false;
  resource.identifier = [...ids, { use: 'temp', system: TEMPORARY_ID_SYSTEM, value: newValue() }];
  return true;
}

/**
 * The write hook that gives identifier-less Patients their temporary
 * identifier before they are stamped and stored (REGISTRY_MODE open/strict).
 */
export function createTemporaryIdentifierHook(schemes: readonly NationalIdScheme[], newValue: () => string) {
  return {
    async beforeStore<R extends { resourceType: string } & Record<string, unknown>>(_tx: unknown, resource: R): Promise<R> {
      if (resource.resourceType !== 'Patient') return resource;
      const copy = { ...resource };
      return assignTemporaryIdentifier(copy, schemes, newValue) ? copy : resource;
    },
  };
}
