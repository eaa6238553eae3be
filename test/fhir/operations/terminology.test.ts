// ValueSet/$expand https://hl7.org/fhir/R4/valueset-operation-expand.html
// CodeSystem/$lookup https://hl7.org/fhir/R4/codesystem-operation-lookup.html
// ValueSet/$validate-code https://hl7.org/fhir/R4/valueset-operation-validate-code.html
// and reads of the shipped national conformance resources, over HTTP.
import { startTestServer, TestServer } from '../../support/server';

const B = 'http://opennhis.org/fhir';
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ pglite: true });
}, 180_000);
afterAll(async () => {
  await s?.close();
});

const param = (body: any, name: string) => body.parameter.find((p: any) => p.name === name);

test('GET ValueSet/$expand?url= expands a national ValueSet', async () => {
  const res = await s.fetch(`/ValueSet/$expand?url=${encodeURIComponent(`${B}/ValueSet/facility-type`)}`);
  expect(res.status).toBe(200);
  expect(res.body.resourceType).toBe('ValueSet');
  expect(res.body.expansion.total).toBe(5);
  expect(res.body.expansion.contains.map((c: any) => c.code)).toEqual(['hospital', 'gp-practice', 'specialist-practice', 'pharmacy', 'laboratory']);
  expect(res.body.expansion.contains[0]).toEqual({ system: `${B}/CodeSystem/facility-type`, code: 'hospital', display: 'Hospital' });
});

test('POST ValueSet/$expand with Parameters, filter and paging; core enumerable ValueSets too', async () => {
  const res = await s.fetch('/ValueSet/$expand', {
    method: 'POST',
    json: { resourceType: 'Parameters', parameter: [{ name: 'url', valueUri: `${B}/ValueSet/prescribable-medication` }, { name: 'filter', valueString: 'metformin' }] },
  });
  expect(res.status).toBe(200);
  // Three products and the ATC substance.
  expect(res.body.expansion.total).toBe(4);
  const core = await s.fetch(`/ValueSet/$expand?url=${encodeURIComponent('http://hl7.org/fhir/ValueSet/observation-status')}&count=2&offset=1`);
  expect(core.status).toBe(200);
  expect(core.body.expansion.total).toBe(8);
  expect(core.body.expansion.contains.map((c: any) => c.code)).toEqual(['preliminary', 'final']);
});

test('$expand errors name the parameter: unknown ValueSet 404, not enumerable 422, missing url 400', async () => {
  const unknown = await s.fetch(`/ValueSet/$expand?url=${encodeURIComponent(`${B}/ValueSet/nope`)}`);
  expect(unknown.status).toBe(404);
  expect(unknown.body.issue[0].expression).toEqual(['url']);
  expect(unknown.body.issue[0].details.coding[0].code).toBe('NHIS-2202');
  const snomed = await s.fetch(`/ValueSet/$expand?url=${encodeURIComponent('http://hl7.org/fhir/ValueSet/mimetypes')}`);
  expect(snomed.status).toBe(422);
  expect(snomed.body.issue[0].details.coding[0].code).toBe('NHIS-2204');
  const missing = await s.fetch('/ValueSet/$expand');
  expect(missing.status).toBe(400);
  expect(missing.body.issue[0].details.coding[0].code).toBe('NHIS-2201');
});

test('CodeSystem/$lookup returns display, designation-free name and properties', async () => {
  const res = await s.fetch(`/CodeSystem/$lookup?system=${encodeURIComponent(`${B}/CodeSystem/national-drug-list`)}&code=NDL100005`);
  expect(res.status).toBe(200);
  expect(param(res.body, 'display').valueString).toBe('Metformin 850 mg film-coated tablets');
  expect(param(res.body, 'name').valueString).toBe('National drug list (sample)');
  expect(param(res.body, 'property').part).toEqual([{ name: 'code', valueCode: 'atc' }, { name: 'value', valueCode: 'A10BA02' }]);
  const atc = await s.fetch('/CodeSystem/$lookup', {
    method: 'POST',
    json: { resourceType: 'Parameters', parameter: [{ name: 'coding', valueCoding: { system: 'http://www.whocc.no/atc', code: 'C10AA05' } }] },
  });
  expect(param(atc.body, 'display').valueString).toBe('atorvastatin');
  const none = await s.fetch(`/CodeSystem/$lookup?system=${encodeURIComponent(`${B}/CodeSystem/specialty`)}&code=astrology`);
  expect(none.status).toBe(404);
  expect(none.body.issue[0].expression).toEqual(['code']);
});

test('ValueSet/$validate-code by code, coding and codeableConcept', async () => {
  const vs = encodeURIComponent(`${B}/ValueSet/specialty`);
  const ok = await s.fetch(`/ValueSet/$validate-code?url=${vs}&system=${encodeURIComponent(`${B}/CodeSystem/specialty`)}&code=cardiology`);
  expect(ok.status).toBe(200);
  expect(param(ok.body, 'result').valueBoolean).toBe(true);
  expect(param(ok.body, 'display').valueString).toBe('Cardiology');
  const bad = await s.fetch(`/ValueSet/$validate-code?url=${vs}&code=astrology`);
  expect(param(bad.body, 'result').valueBoolean).toBe(false);
  expect(param(bad.body, 'message').valueString).toMatch(/astrology/);
  const cc = await s.fetch('/ValueSet/$validate-code', {
    method: 'POST',
    json: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'url', valueUri: 'http://hl7.org/fhir/ValueSet/administrative-gender' },
        { name: 'codeableConcept', valueCodeableConcept: { coding: [{ system: 'http://example.org', code: 'x' }, { system: 'http://hl7.org/fhir/administrative-gender', code: 'female' }] } },
      ],
    },
  });
  expect(param(cc.body, 'result').valueBoolean).toBe(true);
});

test('GET StructureDefinition/{id} (and ValueSet, CodeSystem, NamingSystem) serves the shipped resource', async () => {
  const sd = await s.fetch('/StructureDefinition/national-patient');
  expect(sd.status).toBe(200);
  expect(sd.body.url).toBe(`${B}/StructureDefinition/national-patient`);
  expect(sd.body.differential.element.length).toBeGreaterThan(3);
  expect((await s.fetch('/ValueSet/specialty')).body.resourceType).toBe('ValueSet');
  expect((await s.fetch('/CodeSystem/facility-type')).body.concept).toHaveLength(5);
  expect((await s.fetch('/NamingSystem/bg-egn')).body.uniqueId[0].value).toBe(`${B}/sid/bg-egn`);
  // Other ids fall through to the stored resources.
  expect((await s.fetch('/StructureDefinition/not-shipped')).status).toBe(404);
});

test('a resource claiming a national profile is refused with 422 naming the element', async () => {
  const res = await s.fetch('/Patient', {
    method: 'POST',
    json: { resourceType: 'Patient', meta: { profile: [`${B}/StructureDefinition/national-patient`] }, name: [{ family: 'X' }], gender: 'male', birthDate: '1980-01-01' },
  });
  expect(res.status).toBe(422);
  expect(res.body.issue.map((i: any) => i.expression[0])).toEqual(['Patient.identifier', 'Patient.identifier']);
  const plain = await s.fetch('/Observation', { method: 'POST', json: { resourceType: 'Observation', status: 'not-a-status', code: { text: 'x' } } });
  expect(plain.status).toBe(400);
  expect(plain.body.issue[0].expression).toEqual(['Observation.status']);
});
