/**
 * Search parameter types and modifiers (https://hl7.org/fhir/R4/search.html),
 * against a fresh PostgreSQL database.
 */
import { openFixture, type SearchFixture } from './fixture';

let f: SearchFixture;

const LOINC = 'http://loinc.org';
const NID = 'urn:oid:2.16.999.1.1';

beforeAll(async () => {
  f = await openFixture('postgres');
  await f.put({ resourceType: 'Organization', id: 'org1', identifier: [{ system: 'urn:org', value: 'ORG-1' }], name: 'Hôpital Général' });
  await f.put({ resourceType: 'PractitionerRole', id: 'role1', organization: { reference: 'Organization/org1' }, practitioner: { reference: 'Practitioner/pr1' } });
  await f.put({ resourceType: 'Practitioner', id: 'pr1', name: [{ family: 'House', given: ['Gregory'] }] });
  await f.put({
    resourceType: 'Patient', id: 'p1', active: true, gender: 'female', birthDate: '1970-03-15',
    identifier: [{ system: NID, value: '1234567890', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NI' }] } }],
    name: [{ family: 'Müller', given: ['Zoë', 'Anne'] }],
    telecom: [{ system: 'phone', value: '+41 44 123' }],
    address: [{ city: 'Zürich', postalCode: '8001' }],
    managingOrganization: { reference: 'Organization/org1' },
  });
  await f.put({
    resourceType: 'Patient', id: 'p2', active: false, gender: 'male', birthDate: '1970',
    identifier: [{ system: NID, value: '999' }, { system: 'urn:other', value: '1234567890' }],
    name: [{ family: 'Muller', given: ['Jean'] }],
    address: [{ city: 'Genève' }],
  });
  await f.put({ resourceType: 'Patient', id: 'p3', birthDate: '1985-12-31', name: [{ family: 'Smith', given: ['ANNA'] }], identifier: [{ value: 'no-system' }] });
  await f.put({
    resourceType: 'Observation', id: 'o1', status: 'final',
    code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }], text: 'BP sys' },
    subject: { reference: 'Patient/p1' }, effectiveDateTime: '2023-05-10T10:30:00+02:00',
    valueQuantity: { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
  });
  await f.put({
    resourceType: 'Observation', id: 'o2', status: 'final',
    code: { coding: [{ system: LOINC, code: '8480-6' }] },
    subject: { reference: 'Patient/p1' }, effectivePeriod: { start: '2023-05-11', end: '2023-05-12' },
    valueQuantity: { value: 95.5, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
  });
  await f.put({
    resourceType: 'Observation', id: 'o3', status: 'preliminary',
    code: { coding: [{ system: LOINC, code: '29463-7' }, { system: 'http://snomed.info/sct', code: '27113001' }] },
    subject: { reference: 'http://other.example/fhir/Patient/p2' }, effectiveDateTime: '2023',
    valueQuantity: { value: 70, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
  });
  await f.put({
    resourceType: 'Observation', id: 'o4', status: 'final', code: { coding: [{ system: 'urn:local', code: 'bp' }] },
    subject: { reference: 'Patient/p2' }, effectivePeriod: { start: '2022-01-01' },
    component: [
      { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 150, code: 'mm[Hg]', system: 'http://unitsofmeasure.org' } },
      { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: 90, code: 'mm[Hg]', system: 'http://unitsofmeasure.org' } },
    ],
  });
  await f.put({ resourceType: 'MedicationRequest', id: 'm1', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' }, requester: { reference: 'PractitionerRole/role1' }, medicationCodeableConcept: { text: 'Aspirin' } });
  await f.put({ resourceType: 'MedicationRequest', id: 'm2', status: 'stopped', intent: 'order', subject: { reference: 'Patient/p2' }, medicationCodeableConcept: { text: 'Ibuprofen' } });
  await f.put({ resourceType: 'RiskAssessment', id: 'ra1', status: 'final', subject: { reference: 'Patient/p1' }, prediction: [{ probabilityDecimal: 0.25 }] });
  await f.put({ resourceType: 'RiskAssessment', id: 'ra2', status: 'final', subject: { reference: 'Patient/p2' }, prediction: [{ probabilityDecimal: 100 }] });
  await f.put({ resourceType: 'ValueSet', id: 'vs1', status: 'active', url: 'http://acme.org/fhir/ValueSet/a/b' });
  await f.put({ resourceType: 'ValueSet', id: 'vs2', status: 'active', url: 'http://acme.org/fhir/ValueSet/a' });
  await f.put({ resourceType: 'Patient', id: 'gone', name: [{ family: 'Müller' }] });
  await f.remove('Patient', 'gone');
}, 180_000);

afterAll(async () => {
  await f?.close();
});

describe('token', () => {
  test('code only, system|code, |code, system|', async () => {
    expect(await f.ids('Patient', 'identifier=1234567890')).toEqual(['p1', 'p2']);
    expect(await f.ids('Patient', `identifier=${NID}|1234567890`)).toEqual(['p1']);
    expect(await f.ids('Patient', 'identifier=|no-system')).toEqual(['p3']);
    expect(await f.ids('Patient', 'identifier=|1234567890')).toEqual([]);
    expect(await f.ids('Patient', `identifier=${NID}|`)).toEqual(['p1', 'p2']);
    expect(await f.ids('Observation', `code=${LOINC}|8480-6`)).toEqual(['o1', 'o2']);
    expect(await f.ids('Observation', 'code=http://snomed.info/sct|27113001')).toEqual(['o3']);
  });
  test('booleans and codes', async () => {
    expect(await f.ids('Patient', 'active=true')).toEqual(['p1']);
    expect(await f.ids('Patient', 'gender=male,female')).toEqual(['p1', 'p2']);
  });
  test(':not includes resources without the element', async () => {
    expect(await f.ids('Patient', 'gender:not=male')).toEqual(['p1', 'p3']);
    expect(await f.ids('Observation', 'status:not=final')).toEqual(['o3']);
  });
  test(':text matches display and CodeableConcept.text, accent and case folded', async () => {
    expect(await f.ids('Observation', 'code:text=systolic')).toEqual(['o1']);
    expect(await f.ids('Observation', 'code:text=bp SYS')).toEqual(['o1']);
  });
  test(':of-type', async () => {
    expect(await f.ids('Patient', 'identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|NI|1234567890')).toEqual(['p1']);
    expect(await f.ids('Patient', 'identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|1234567890')).toEqual([]);
  });
  test(':missing', async () => {
    expect(await f.ids('Patient', 'gender:missing=true')).toEqual(['p3']);
    expect(await f.ids('Patient', 'gender:missing=false')).toEqual(['p1', 'p2']);
  });
  test('_id and repeated parameters are AND', async () => {
    expect(await f.ids('Patient', '_id=p1,p3')).toEqual(['p1', 'p3']);
    expect(await f.ids('Patient', '_id=p1,p3&_id=p3,p2')).toEqual(['p3']);
    expect(await f.ids('Patient', '_id=gone')).toEqual([]);
  });
});

describe('string', () => {
  test('starts-with, case and accent insensitive', async () => {
    expect(await f.ids('Patient', 'family=muller')).toEqual(['p1', 'p2']);
    expect(await f.ids('Patient', 'family=MÜL')).toEqual(['p1', 'p2']);
    expect(await f.ids('Patient', 'given=zoe')).toEqual(['p1']);
    expect(await f.ids('Patient', 'name=anne')).toEqual(['p1']);
    expect(await f.ids('Patient', 'name=ann')).toEqual(['p1', 'p3']);
    expect(await f.ids('Patient', 'address-city=zurich')).toEqual(['p1']);
    expect(await f.ids('Patient', 'address=gen')).toEqual(['p2']);
  });
  test(':exact and :contains', async () => {
    expect(await f.ids('Patient', 'family:exact=Müller')).toEqual(['p1']);
    expect(await f.ids('Patient', 'family:exact=müller')).toEqual([]);
    expect(await f.ids('Patient', 'family:contains=ULL')).toEqual(['p1', 'p2']);
    expect(await f.ids('Patient', 'family:contains=mit')).toEqual(['p3']);
  });
  test('LIKE wildcards in values are literal', async () => {
    expect(await f.ids('Patient', 'family=%')).toEqual([]);
    expect(await f.ids('Patient', 'family=M_ller')).toEqual([]);
  });
});

describe('date', () => {
  test('precision ranges', async () => {
    expect(await f.ids('Patient', 'birthdate=1970')).toEqual(['p1', 'p2']);
    expect(await f.ids('Patient', 'birthdate=1970-03')).toEqual(['p1']);
    expect(await f.ids('Patient', 'birthdate=1970-03-15')).toEqual(['p1']);
    expect(await f.ids('Patient', 'birthdate=eq1970-03-16')).toEqual([]);
  });
  test('prefixes', async () => {
    expect(await f.ids('Patient', 'birthdate=lt1971')).toEqual(['p1', 'p2']);
    expect(await f.ids('Patient', 'birthdate=gt1970-06')).toEqual(['p2', 'p3']);
    expect(await f.ids('Patient', 'birthdate=ge1985-12-31')).toEqual(['p3']);
    expect(await f.ids('Patient', 'birthdate=le1970-03-15')).toEqual(['p1', 'p2']);
    expect(await f.ids('Patient', 'birthdate=sa1970-12-31')).toEqual(['p3']);
    expect(await f.ids('Patient', 'birthdate=eb1971')).toEqual(['p1', 'p2']);
    expect(await f.ids('Patient', 'birthdate=ne1970')).toEqual(['p3']);
    expect(await f.ids('Patient', 'birthdate=ap1985-12-30')).toEqual(['p3']);
    expect(await f.ids('Patient', 'birthdate=gt1970&birthdate=lt1990')).toEqual(['p3']);
  });
  test('time zones', async () => {
    // o1 is 2023-05-10T08:30:00Z
    expect(await f.ids('Observation', 'date=2023-05-10')).toEqual(['o1']);
    expect(await f.ids('Observation', 'date=2023-05-10T08:30:00Z')).toEqual(['o1']);
    expect(await f.ids('Observation', 'date=2023-05-10T10:30:00%2B02:00')).toEqual(['o1']);
    expect(await f.ids('Observation', 'date=2023-05-10T10:30:00Z')).toEqual([]);
    // Ranges that overlap both sides match gt and lt alike (o3 is all of 2023, o4 is open-ended).
    expect(await f.ids('Observation', 'date=gt2023-05-10T08:29:59Z&date=lt2023-05-10T08:31:00Z')).toEqual(['o1', 'o3', 'o4']);
    expect(await f.ids('Observation', 'date=sa2023-05-10T08:29:59Z&date=eb2023-05-10T08:31:00Z')).toEqual(['o1']);
    expect(await f.ids('Observation', 'date=ge2023-05-10T08:30:00Z&date=le2023-05-10T08:30:00Z&date=eq2023-05-10')).toEqual(['o1']);
  });
  test('periods and open ends', async () => {
    expect(await f.ids('Observation', 'date=2023-05-11')).toEqual([]);
    expect(await f.ids('Observation', 'date=2023-05')).toEqual(['o1', 'o2']);
    expect(await f.ids('Observation', 'date=ge2030')).toEqual(['o4']);
    expect(await f.ids('Observation', 'date=lt2022-06')).toEqual(['o4']);
    expect(await f.ids('Observation', 'date=2023')).toEqual(['o1', 'o2', 'o3']);
  });
  test('_lastUpdated', async () => {
    expect((await f.ids('Patient', '_lastUpdated=ge2024-01-01')).length).toBe(3);
    expect(await f.ids('Patient', '_lastUpdated=lt2024-01-01')).toEqual([]);
  });
});

describe('number and quantity', () => {
  test('number precision and prefixes', async () => {
    expect(await f.ids('RiskAssessment', 'probability=0.25')).toEqual(['ra1']);
    expect(await f.ids('RiskAssessment', 'probability=0.2')).toEqual([]);
    expect(await f.ids('RiskAssessment', 'probability=0.3')).toEqual(['ra1']);
    expect(await f.ids('RiskAssessment', 'probability=1e2')).toEqual(['ra2']);
    expect(await f.ids('RiskAssessment', 'probability=gt0.25')).toEqual(['ra2']);
    expect(await f.ids('RiskAssessment', 'probability=le0.25')).toEqual(['ra1']);
    expect(await f.ids('RiskAssessment', 'probability=ap95')).toEqual(['ra2']);
  });
  test('quantity with system and code', async () => {
    expect(await f.ids('Observation', 'value-quantity=120')).toEqual(['o1']);
    expect(await f.ids('Observation', 'value-quantity=gt90|http://unitsofmeasure.org|mm[Hg]')).toEqual(['o1', 'o2']);
    expect(await f.ids('Observation', 'value-quantity=95.5||mmHg')).toEqual(['o2']);
    expect(await f.ids('Observation', 'value-quantity=le70||kg')).toEqual(['o3']);
    expect(await f.ids('Observation', 'value-quantity=ne120||mm[Hg]')).toEqual(['o2']);
  });
  test('composite', async () => {
    expect(await f.ids('Observation', `code-value-quantity=${LOINC}|8480-6$gt100`)).toEqual(['o1']);
    expect(await f.ids('Observation', `code-value-quantity=${LOINC}|8480-6$lt100,${LOINC}|29463-7$70`)).toEqual(['o2', 'o3']);
    expect(await f.ids('Observation', `component-code-value-quantity=${LOINC}|8480-6$gt140`)).toEqual(['o4']);
    // Components of different elements must not combine.
    expect(await f.ids('Observation', `component-code-value-quantity=${LOINC}|8480-6$90`)).toEqual([]);
    expect(await f.ids('Observation', `combo-code-value-quantity=${LOINC}|8462-4$90`)).toEqual(['o4']);
  });
});

describe('reference', () => {
  test('Type/id, id, absolute URL, :Type', async () => {
    expect(await f.ids('Observation', 'subject=Patient/p1')).toEqual(['o1', 'o2']);
    expect(await f.ids('Observation', 'patient=p1')).toEqual(['o1', 'o2']);
    expect(await f.ids('Observation', 'subject:Patient=p2')).toEqual(['o3', 'o4']);
    expect(await f.ids('Observation', 'subject=http://other.example/fhir/Patient/p2')).toEqual(['o3', 'o4']);
    expect(await f.ids('Observation', 'subject=Group/p1')).toEqual([]);
    expect(await f.ids('Observation', 'subject:missing=true')).toEqual([]);
  });
  test('uri :below and :above', async () => {
    expect(await f.ids('ValueSet', 'url=http://acme.org/fhir/ValueSet/a')).toEqual(['vs2']);
    expect(await f.ids('ValueSet', 'url:below=http://acme.org/fhir/ValueSet/a')).toEqual(['vs1', 'vs2']);
    expect(await f.ids('ValueSet', 'url:above=http://acme.org/fhir/ValueSet/a/b/c')).toEqual(['vs1', 'vs2']);
  });
});

describe('chains and _has', () => {
  test('one level', async () => {
    expect(await f.ids('Observation', `subject:Patient.identifier=${NID}|1234567890`)).toEqual(['o1', 'o2']);
    expect(await f.ids('Observation', 'patient.family=muller')).toEqual(['o1', 'o2', 'o3', 'o4']);
    expect(await f.ids('Observation', 'patient.gender=male')).toEqual(['o3', 'o4']);
  });
  test('two levels', async () => {
    expect(await f.ids('MedicationRequest', 'requester:PractitionerRole.organization.identifier=urn:org|ORG-1')).toEqual(['m1']);
    expect(await f.ids('MedicationRequest', 'requester.organization.identifier=urn:org|ORG-1')).toEqual(['m1']);
    expect(await f.ids('Observation', 'patient.organization.name=hopital')).toEqual(['o1', 'o2']);
  });
  test('reverse chain', async () => {
    expect(await f.ids('Patient', '_has:MedicationRequest:patient:status=active')).toEqual(['p1']);
    expect(await f.ids('Patient', '_has:Observation:subject:code=http://loinc.org|29463-7')).toEqual(['p2']);
    expect(await f.ids('Organization', '_has:Patient:organization:_has:MedicationRequest:patient:status=active')).toEqual(['org1']);
  });
});
