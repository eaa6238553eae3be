// What a client stores comes back as sent, apart from id and meta.
import { startTestServer, TestServer } from '../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
}, 180_000);
afterAll(async () => {
  await s.close();
});

function withoutServerFields(body: any): any {
  const { id: _id, meta, ...rest } = body;
  const { versionId: _v, lastUpdated: _l, ...clientMeta } = meta ?? {};
  return Object.keys(clientMeta).length ? { ...rest, meta: clientMeta } : rest;
}

test('decimal precision survives create, read, vread and history', async () => {
  const text =
    '{"resourceType":"Observation","status":"final","code":{"text":"glucose"},' +
    '"valueQuantity":{"value":1.50,"unit":"mmol/L"},' +
    '"referenceRange":[{"low":{"value":3.900},"high":{"value":100.0}}],' +
    '"component":[{"code":{"text":"a"},"valueQuantity":{"value":0.000001230}},{"code":{"text":"b"},"valueQuantity":{"value":12345678901234567890.5}}]}';
  const created = await s.fetch('/Observation', { method: 'POST', body: text, headers: { 'content-type': 'application/fhir+json' } });
  expect(created.status).toBe(201);
  for (const path of [`/Observation/${created.body.id}`, `/Observation/${created.body.id}/_history/1`]) {
    const read = await s.fetch(path);
    expect(read.text).toContain('"value":1.50');
    expect(read.text).toContain('"value":3.900');
    expect(read.text).toContain('"value":100.0');
    expect(read.text).toContain('"value":0.000001230');
    expect(read.text).toContain('"value":12345678901234567890.5');
  }
  const hist = await s.fetch(`/Observation/${created.body.id}/_history`);
  expect(hist.text).toContain('"value":1.50');
});

test('primitive extensions, Unicode and element order come back intact', async () => {
  const patient = {
    resourceType: 'Patient',
    name: [{ family: 'Đặng Thị Hồng', given: ['Ngọc', 'Ánh'] }, { family: 'Иванова', given: ['Мария'] }, { text: '山田 太郎 🏥' }],
    birthDate: '1975-03-01',
    _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1975-03-01T04:15:00+07:00' }] },
    gender: 'female',
    _gender: { extension: [{ url: 'http://example.org/source', valueString: 'self-reported' }] },
    active: true,
    meta: { tag: [{ system: 'http://example.org/tags', code: 'pilot' }], profile: ['http://example.org/StructureDefinition/p'] },
  };
  // Send with keys in a different order than we compare with.
  const reordered = Object.fromEntries(Object.entries(patient).reverse());
  const created = await s.fetch('/Patient', { method: 'POST', json: reordered });
  expect(created.status).toBe(201);
  const read = await s.fetch(`/Patient/${created.body.id}`);
  expect(withoutServerFields(read.body)).toEqual(patient);
});

test('a primitive carried only by its extension (no value) is accepted and kept', async () => {
  const patient = { resourceType: 'Patient', _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] } };
  const created = await s.fetch('/Patient', { method: 'POST', json: patient });
  expect(created.status).toBe(201);
  expect(withoutServerFields((await s.fetch(`/Patient/${created.body.id}`)).body)).toEqual(patient);
});
