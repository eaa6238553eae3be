import type { Issue } from '../../errors/fhir-error';
import type { NationalIdScheme } from '../../shared/national-id';
import { schemeForSystem } from '../../shared/national-id';

interface IdentifierLike {
  system?: unknown;
  value?: unknown;
}

/** The national identifiers a Patient carries (systems of the enabled schemes). */
export function nationalIdentifiersOf(
  resource: { resourceType: string; identifier?: unknown },
  schemes: readonly NationalIdScheme[],
): { index: number; scheme: NationalIdScheme; value: string }[] {
  if (resource.resourceType !== 'Patient' || !Array.isArray(resource.identifier)) return [];
  const out: { index: number; scheme: NationalIdScheme; value: string }[] = [];
  (resource.identifier as IdentifierLike[]).forEach((id, index) => {
    const scheme = typeof id?.system === 'string' ? schemeForSystem(schemes, id.system) : undefined;
    if (scheme && typeof id.value === 'string') out.push({ index, scheme, value: id.value });
  });
  return out;
}

/** Checksum and date checks of every national identifier, each failure naming `Patient.identifier[i].value`. */
export function checkNationalIdentifiers(
  resource: { resourceType: string; identifier?: unknown },
  schemes: readonly NationalIdScheme[],
  pathPrefix = resource.resourceType,
): Issue[] {
  const issues: Issue[] = [];
  for (const { index, scheme, value } of nationalIdentifiersOf(resource, schemes)) {
    const result = scheme.check(value);
    if (!result.valid) {
      issues.push({
        severity: 'error',
        code: 'value',
        diagnostics: `Invalid ${scheme.description} '${value}': ${result.reason}`,
        expression: [`${pathPrefix}.identifier[${index}].value`],
        nhisCode: 'NHIS-3001',
      });
    }
  }
  return issues;
}
