// SearchParameter / CapabilityStatement consistency: https://hl7.org/fhir/R4/searchparameter.html
// (derivedFrom: "the definition ... is derived from"; composite components), https://hl7.org/fhir/R4/capabilitystatement.html.
import { validateResource, warmValidation } from '../../src/validation';

beforeAll(() => warmValidation(), 120_000);

const issues = (r: unknown) =>
  validateResource(r)
    .filter((i) => i.nhisCode === 'NHIS-2016')
    .map((i) => `${i.severity} ${i.expression?.join(',')}`);

function searchParameter(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    resourceType: 'SearchParameter',
    url: 'http://opennhis.org/fhir/SearchParameter/x',
    name: 'x',
    status: 'active',
    description: 'x',
    code: 'x',
    base: ['Patient'],
    type: 'date',
    expression: 'Patient.birthDate',
    derivedFrom: 'http://hl7.org/fhir/SearchParameter/individual-birthdate',
    ...overrides,
  };
}

test('a derivation with the type and a base of its parent passes', () => {
  expect(issues(searchParameter({}))).toEqual([]);
});

test("a derivation that changes the type, or moves to a base its parent does not have, is refused", () => {
  expect(issues(searchParameter({ type: 'string' }))).toEqual(['error SearchParameter.type']);
  expect(issues(searchParameter({ base: ['Patient', 'Observation'] }))).toEqual(['error SearchParameter.base[1]']);
});

test('a composite combines at least two components', () => {
  const composite = (component: unknown[]) => searchParameter({ type: 'composite', derivedFrom: undefined, expression: 'Patient', component });
  const part = (p: string) => ({ definition: `http://hl7.org/fhir/SearchParameter/${p}`, expression: 'birthDate' });
  expect(issues(composite([part('individual-birthdate'), part('individual-gender')]))).toEqual([]);
  expect(issues(composite([part('individual-birthdate')]))).toEqual(['error SearchParameter.component']);
});

test('a CapabilityStatement searchParam that disagrees with its definition is a warning', () => {
  const cs = (type: string, resourceType = 'Patient') => ({
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2024-01-01',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json'],
    implementation: { description: 'x' },
    rest: [{ mode: 'server', resource: [{ type: resourceType, searchParam: [{ name: 'birthdate', definition: 'http://hl7.org/fhir/SearchParameter/individual-birthdate', type }] }] }],
  });
  expect(issues(cs('date'))).toEqual([]);
  expect(issues(cs('string'))).toEqual(['warning CapabilityStatement.rest[0].resource[0].searchParam[0].type']);
  expect(issues(cs('date', 'Observation'))).toEqual(['warning CapabilityStatement.rest[0].resource[0].searchParam[0].definition']);
});
