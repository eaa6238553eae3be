// https://hl7.org/fhir/R4/terminologies.html#required — required bindings of the core specification.
import { validateResource, warmValidation } from '../../src/validation';
import { nonEnumerableBindings } from '../../src/validation/bindings';

const LOINC = { coding: [{ system: 'http://loinc.org', code: '8867-4' }] };

test('a code outside the required ValueSet is NHIS-2009, naming the element', () => {
  expect(validateResource({ resourceType: 'Observation', status: 'not-a-status', code: LOINC })).toEqual([
    {
      severity: 'error',
      code: 'code-invalid',
      diagnostics: "The code 'not-a-status' is not in the value set http://hl7.org/fhir/ValueSet/observation-status",
      expression: ['Observation.status'],
      nhisCode: 'NHIS-2009',
    },
  ]);
  expect(validateResource({ resourceType: 'Observation', status: 'final', code: LOINC })).toEqual([]);
});

test('codes on datatypes and in arrays are checked wherever they occur', () => {
  const issues = validateResource({
    resourceType: 'Patient',
    gender: 'unknown',
    name: [{ use: 'official', family: 'A' }, { use: 'nick', family: 'B' }],
    telecom: [{ system: 'beeper', value: '1' }],
  });
  expect(issues.map((i) => i.expression?.[0])).toEqual(['Patient.name[1].use', 'Patient.telecom[0].system']);
});

test('CodeableConcept: a coding in a system of the ValueSet must be a member; another system alone is not a member', () => {
  // Condition.clinicalStatus is bound (required) to condition-clinical.
  const system = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
  const base = { resourceType: 'Condition', subject: { reference: 'Patient/1' } };
  expect(validateResource({ ...base, clinicalStatus: { coding: [{ system, code: 'active' }] } })).toEqual([]);
  const wrong = validateResource({ ...base, clinicalStatus: { coding: [{ system, code: 'dormant' }] } });
  expect(wrong.map((i) => [i.nhisCode, i.expression?.[0]])).toEqual([['NHIS-2009', 'Condition.clinicalStatus.coding[0]']]);
  const foreign = validateResource({ ...base, clinicalStatus: { coding: [{ system: 'http://example.org/x', code: 'active' }] } });
  expect(foreign.map((i) => [i.nhisCode, i.expression?.[0]])).toEqual([['NHIS-2009', 'Condition.clinicalStatus']]);
  // Text only, and a member next to a foreign coding, are accepted.
  expect(validateResource({ ...base, clinicalStatus: { text: 'active' } })).toEqual([]);
  expect(
    validateResource({ ...base, clinicalStatus: { coding: [{ system: 'http://example.org/x', code: 'a' }, { system, code: 'active' }] } }),
  ).toEqual([]);
});

test('bindings inside Bundle entries name the entry', () => {
  const issues = validateResource({
    resourceType: 'Bundle',
    type: 'collection',
    entry: [{ fullUrl: 'urn:uuid:5d1c4a1e-3b4b-4a9e-9f41-8a9a3c1d2e10', resource: { resourceType: 'Observation', status: 'done', code: LOINC } }],
  });
  expect(issues.map((i) => i.expression?.[0])).toEqual(['Bundle.entry[0].resource.status']);
});

test('required bindings that are not enumerable from the shipped definitions are listed with the reason', () => {
  warmValidation();
  const skipped = nonEnumerableBindings();
  expect(skipped.get('http://hl7.org/fhir/ValueSet/mimetypes')).toMatch(/urn:ietf:bcp:13 is not shipped/);
  for (const reason of skipped.values()) expect(reason).toMatch(/not shipped|not complete|not supported|not known|no compose/);
});
