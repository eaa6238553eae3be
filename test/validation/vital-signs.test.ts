// The R4 vital-signs profiles, mandatory by LOINC code: https://hl7.org/fhir/R4/observation.html#vitals,
// https://hl7.org/fhir/R4/observation-vitalsigns.html (vitalsigns, heartrate, bp, bodytemp, vitalspanel; vs-1..vs-3).
import { validateResource, warmValidation, type ValidateOptions } from '../../src/validation';

beforeAll(() => warmValidation(), 120_000);

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const VITAL = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] };

function heartRate(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [VITAL],
    code: { coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2024-05-01T10:30:00+02:00',
    valueQuantity: { value: 72, unit: 'beats/minute', system: UCUM, code: '/min' },
    ...overrides,
  };
}

function bloodPressure(components: unknown[]): Record<string, unknown> {
  const bp = heartRate({ code: { coding: [{ system: LOINC, code: '85354-9' }] }, component: components });
  delete bp.valueQuantity;
  return bp;
}

const component = (code: string, unit = 'mm[Hg]') => ({ code: { coding: [{ system: LOINC, code }] }, valueQuantity: { value: 120, unit, system: UCUM, code: unit } });

/** `nhisCode element` of each profile issue. */
function vitalIssues(resource: unknown, options: ValidateOptions = { vitalSignsByCode: true }): string[] {
  return validateResource(resource, options)
    .filter((i) => i.diagnostics.startsWith('Profile observation-'))
    .map((i) => `${i.nhisCode} ${/element (\S+):/.exec(i.diagnostics)?.[1]}`);
}

test('a complete heart rate, blood pressure and body temperature pass', () => {
  expect(vitalIssues(heartRate())).toEqual([]);
  expect(vitalIssues(bloodPressure([component('8480-6'), component('8462-4')]))).toEqual([]);
  const temp = heartRate({ code: { coding: [{ system: LOINC, code: '8310-5' }] }, valueQuantity: { value: 37.2, unit: 'C', system: UCUM, code: 'Cel' } });
  expect(vitalIssues(temp)).toEqual([]);
});

test('category, subject and effective[x] are required; the subject is a Patient', () => {
  const obs = heartRate({ subject: { reference: 'Group/g1' } });
  delete obs.category;
  delete obs.effectiveDateTime;
  expect(vitalIssues(obs)).toEqual([
    'NHIS-2104 Observation.category:VSCat',
    'NHIS-2107 Observation.subject',
    'NHIS-2101 Observation.effective[x]',
  ]);
});

test('vs-1: an effectiveDateTime precise to the day at least; vs-2: a value or a dataAbsentReason', () => {
  expect(vitalIssues(heartRate({ effectiveDateTime: '2024-05' }))).toEqual(['NHIS-2106 Observation.effective[x]']);
  const noValue = heartRate();
  delete noValue.valueQuantity;
  expect(vitalIssues(noValue)).toEqual(['NHIS-2106 Observation']);
  expect(vitalIssues({ ...noValue, dataAbsentReason: { text: 'not measured' } })).toEqual([]);
});

test('the value is a UCUM Quantity in the profile’s unit', () => {
  expect(vitalIssues(heartRate({ valueQuantity: { value: 72, unit: 'per hour', system: UCUM, code: '/h' } }))).toEqual(['NHIS-2105 Observation.valueQuantity.code']);
  expect(vitalIssues(heartRate({ valueQuantity: { value: 72 } }))).toEqual([
    'NHIS-2101 Observation.valueQuantity.unit',
    'NHIS-2101 Observation.valueQuantity.system',
    'NHIS-2101 Observation.valueQuantity.code',
  ]);
  const text = heartRate({ valueString: 'fast' });
  delete text.valueQuantity;
  expect(vitalIssues(text)).toEqual(['NHIS-2107 Observation.value[x]']);
});

test('a blood pressure has exactly one systolic and one diastolic component in mm[Hg], and no value of its own', () => {
  expect(vitalIssues(bloodPressure([component('8480-6')]))).toEqual(['NHIS-2104 Observation.component:DiastolicBP']);
  expect(vitalIssues(bloodPressure([component('8480-6', 'kPa'), component('8462-4')]))).toEqual(['NHIS-2105 Observation.component:SystolicBP.valueQuantity.code']);
  expect(vitalIssues({ ...bloodPressure([component('8480-6'), component('8462-4')]), valueQuantity: { value: 1, unit: 'x', system: UCUM, code: 'x' } })).toEqual([
    'NHIS-2107 Observation.value[x]',
  ]);
});

test('which Observations are checked: by code when enforced (the server with profiles enforced), always when claimed', () => {
  const partial = heartRate();
  delete partial.category;
  expect(vitalIssues(partial, {})).toEqual([]);
  expect(vitalIssues(partial, { profiles: 'enforce' })).toEqual(['NHIS-2104 Observation.category:VSCat']);
  const claimed = { ...partial, meta: { profile: ['http://hl7.org/fhir/StructureDefinition/heartrate'] } };
  expect(vitalIssues(claimed, {})).toEqual(['NHIS-2104 Observation.category:VSCat']);
  expect(vitalIssues(claimed, { profiles: 'off' })).toEqual([]);
  // A claim of a core vital-signs profile is known, not "not known to this server".
  expect(validateResource(heartRate({ meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] } }))).toEqual([]);
});
