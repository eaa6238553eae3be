// The shipped conformance resources are themselves valid R4 (core validator), and every profile compiles.
import { readdirSync } from 'node:fs';
import { validateResource } from '../../src/validation';
import { loadConformanceFiles, nationalProfilesDir } from '../../src/validation/conformance-resources';
import { loadProfiles } from '../../src/validation/profiles';
import { expandValueSet } from '../../src/validation/terminology';

const files = loadConformanceFiles();

test('fhir-profiles/ holds the national profiles, terminology and NamingSystems', () => {
  const byType = (t: string) => files.filter((f) => f.resource.resourceType === t).map((f) => f.resource.id).sort();
  expect(byType('StructureDefinition')).toEqual([
    'eprescription-medication-request',
    'ereferral-service-request',
    'national-organization',
    'national-patient',
    'national-practitioner',
    'national-practitioner-role',
  ]);
  expect(byType('NamingSystem')).toEqual(expect.arrayContaining(['bg-egn', 'bg-lnch', 'cz-rc', 'vn-cccd', 'temporary', 'practitioner-number', 'facility-code']));
  expect(readdirSync(nationalProfilesDir()).filter((f) => f.endsWith('.json')).length).toBe(files.length);
});

test.each(files.map((f) => [f.file, f.resource] as const))('%s is valid R4', (_file, resource) => {
  expect(validateResource(resource)).toEqual([]);
});

test('every StructureDefinition compiles and is a constraint on its core type under our canonical base', () => {
  const { byUrl } = loadProfiles();
  for (const f of files.filter((x) => x.resource.resourceType === 'StructureDefinition')) {
    expect(f.resource.url).toBe(`http://opennhis.org/fhir/StructureDefinition/${f.resource.id}`);
    expect(byUrl.has(f.resource.url as string)).toBe(true);
  }
});

test('every shipped ValueSet expands; the ATC subset and the drug list have realistic sizes', () => {
  for (const f of files.filter((x) => x.resource.resourceType === 'ValueSet')) {
    const r = expandValueSet(f.resource.url as string);
    expect(r.ok).toBe(true);
  }
  const size = (id: string) => {
    const r = expandValueSet(`http://opennhis.org/fhir/ValueSet/${id}`);
    return r.ok ? r.expansion.contains.length : 0;
  };
  expect(size('atc-subset')).toBeGreaterThanOrEqual(40);
  expect(size('national-drug-list')).toBeGreaterThanOrEqual(50);
  expect(size('facility-type')).toBe(5);
  expect(size('prescribable-medication')).toBe(size('atc-subset') + size('national-drug-list'));
});

test('every national drug maps to an ATC code of the subset', () => {
  const atc = expandValueSet('http://opennhis.org/fhir/ValueSet/atc-subset');
  const drugs = files.find((f) => f.resource.id === 'national-drug-list' && f.resource.resourceType === 'CodeSystem')!.resource as unknown as {
    concept: { code: string; property: { code: string; valueCode: string }[] }[];
  };
  for (const c of drugs.concept) {
    const code = c.property.find((p) => p.code === 'atc')!.valueCode;
    expect(atc.ok && atc.expansion.codes.has(code)).toBe(true);
  }
});
