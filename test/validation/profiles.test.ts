// National profiles (fhir-profiles/), one test per rule kind; each issue names the element and the profile.
import { validateResource } from '../../src/validation';

const P = 'http://opennhis.org/fhir/StructureDefinition/';
const EGN = 'http://opennhis.org/fhir/sid/bg-egn';

function buildPatient(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    meta: { profile: [P + 'national-patient'] },
    identifier: [{ system: EGN, value: '7523169263' }],
    name: [{ family: 'Ivanova', given: ['Maria'] }],
    gender: 'female',
    birthDate: '1975-03-16',
    ...extra,
  };
}

function buildPrescription(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'MedicationRequest',
    meta: { profile: [P + 'eprescription-medication-request'] },
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { coding: [{ system: 'http://opennhis.org/fhir/CodeSystem/national-drug-list', code: 'NDL100005' }] },
    subject: { reference: 'Patient/p1' },
    authoredOn: '2024-06-01',
    requester: { reference: 'PractitionerRole/r1' },
    dosageInstruction: [{ text: '1 tablet twice daily' }],
    dispenseRequest: { quantity: { value: 60, unit: 'tablet' }, validityPeriod: { start: '2024-06-01', end: '2024-07-01' } },
    ...extra,
  };
}

const errors = (r: unknown, profiles?: 'enforce' | 'claimed' | 'off') =>
  validateResource(r, { profiles }).filter((i) => i.severity === 'error').map((i) => ({ nhisCode: i.nhisCode, code: i.code, expression: i.expression }));

test('conforming resources have no issues', () => {
  expect(validateResource(buildPatient())).toEqual([]);
  expect(validateResource(buildPrescription())).toEqual([]);
});

test('cardinality: a missing element is NHIS-2101 business-rule naming it and the profile', () => {
  const issues = validateResource(buildPatient({ gender: undefined }));
  expect(issues).toEqual([
    {
      severity: 'error',
      code: 'business-rule',
      diagnostics: `Profile NhisPatient (${P}national-patient), element Patient.gender: minimum cardinality 1, found 0`,
      expression: ['Patient.gender'],
      nhisCode: 'NHIS-2101',
    },
  ]);
  expect(errors(buildPrescription({ dispenseRequest: { validityPeriod: { start: '2024-06-01' } } }))).toEqual([
    { nhisCode: 'NHIS-2101', code: 'business-rule', expression: ['MedicationRequest.dispenseRequest.quantity'] },
  ]);
});

test('fixed value: intent other than order is NHIS-2102', () => {
  expect(errors(buildPrescription({ intent: 'plan' }))).toEqual([
    { nhisCode: 'NHIS-2102', code: 'business-rule', expression: ['MedicationRequest.intent'] },
  ]);
});

test('slice: a Patient without a national (or temporary) identifier is NHIS-2104 on Patient.identifier', () => {
  expect(errors(buildPatient({ identifier: [{ system: 'http://hospital.example/mrn', value: '1' }] }))).toEqual([
    { nhisCode: 'NHIS-2104', code: 'business-rule', expression: ['Patient.identifier'] },
  ]);
  // A matched slice's own rules apply to the matching item.
  expect(errors(buildPatient({ identifier: [{ system: EGN }] }))).toEqual([
    { nhisCode: 'NHIS-2101', code: 'business-rule', expression: ['Patient.identifier[0].value'] },
  ]);
  const practitioner = {
    resourceType: 'Practitioner',
    meta: { profile: [P + 'national-practitioner'] },
    identifier: [{ system: 'http://opennhis.org/fhir/sid/practitioner-number', value: 'P1' }, { system: 'http://opennhis.org/fhir/sid/practitioner-number', value: 'P2' }],
    name: [{ family: 'Petrov' }],
  };
  expect(errors(practitioner)).toEqual([{ nhisCode: 'NHIS-2104', code: 'business-rule', expression: ['Practitioner.identifier'] }]);
});

test('required binding to a national ValueSet: NHIS-2105 naming the coding', () => {
  const org = {
    resourceType: 'Organization',
    meta: { profile: [P + 'national-organization'] },
    identifier: [{ system: 'http://opennhis.org/fhir/sid/facility-code', value: 'F001' }],
    type: [{ coding: [{ system: 'http://opennhis.org/fhir/CodeSystem/facility-type', code: 'spa' }] }],
    name: 'Sofia Spa',
  };
  expect(errors(org)).toEqual([{ nhisCode: 'NHIS-2105', code: 'business-rule', expression: ['Organization.type[0].coding[0]'] }]);
  const drug = { coding: [{ system: 'http://www.whocc.no/atc', code: 'C10AA05' }] };
  expect(errors(buildPrescription({ medicationCodeableConcept: drug }))).toEqual([]);
  const unlisted = { coding: [{ system: 'http://snomed.info/sct', code: '387517004' }], text: 'Paracetamol' };
  expect(errors(buildPrescription({ medicationCodeableConcept: unlisted }))).toEqual([
    { nhisCode: 'NHIS-2105', code: 'business-rule', expression: ['MedicationRequest.medicationCodeableConcept'] },
  ]);
});

test('constraint: birthDate is required unless the identifier is temporary (NHIS-2106, invariant)', () => {
  expect(errors(buildPatient({ birthDate: undefined }))).toEqual([{ nhisCode: 'NHIS-2106', code: 'invariant', expression: ['Patient'] }]);
  const temporary = buildPatient({ birthDate: undefined, identifier: [{ system: 'http://opennhis.org/fhir/sid/temporary', value: 'T-1' }] });
  expect(errors(temporary)).toEqual([]);
  expect(errors(buildPrescription({ dispenseRequest: { quantity: { value: 1 }, validityPeriod: { end: '2024-07-01' } } }))).toEqual([
    { nhisCode: 'NHIS-2106', code: 'invariant', expression: ['MedicationRequest'] },
  ]);
});

test('type: choice variants and reference targets the profile excludes are NHIS-2107', () => {
  const r = buildPrescription({ medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/m1' }, subject: { reference: 'Group/g1' } });
  expect(errors(r)).toEqual([
    { nhisCode: 'NHIS-2107', code: 'business-rule', expression: ['MedicationRequest.medicationReference'] },
    { nhisCode: 'NHIS-2107', code: 'business-rule', expression: ['MedicationRequest.subject.reference'] },
  ]);
});

test('modes: claimed checks only claims, enforce applies by type (not to contained resources), off never', () => {
  const plain = { resourceType: 'Patient', name: [{ family: 'X' }] };
  expect(errors(plain, 'claimed')).toEqual([]);
  expect(errors(plain, 'enforce').map((i) => i.expression?.[0])).toEqual(['Patient', 'Patient.identifier', 'Patient.identifier', 'Patient.gender']);
  expect(errors(buildPatient({ gender: undefined }), 'off')).toEqual([]);
  const withContained = buildPrescription({ contained: [{ resourceType: 'Practitioner', id: 'pr' }], requester: { reference: '#pr' } });
  expect(errors(withContained, 'enforce')).toEqual([]);
});

test('unknown profiles: a national canonical is an error, a foreign one a warning; profiles in Bundle entries are checked', () => {
  const claims = validateResource({ resourceType: 'Basic', code: { text: 'x' }, meta: { profile: [P + 'nope', 'http://example.org/StructureDefinition/p'] } });
  expect(claims.map((i) => [i.severity, i.nhisCode, i.expression?.[0]])).toEqual([
    ['error', 'NHIS-2108', 'Basic.meta.profile[0]'],
    ['warning', 'NHIS-2108', 'Basic.meta.profile[1]'],
  ]);
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:1e0f8c36-8a5e-4e5c-9c55-1e0a1d7c8f01', resource: buildPatient({ name: undefined }) }] };
  expect(errors(bundle)).toEqual([{ nhisCode: 'NHIS-2101', code: 'business-rule', expression: ['Bundle.entry[0].resource.name'] }]);
});
