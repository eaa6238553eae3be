// One active Patient per national identifier, checksum-validated (issue 5 §1–2).
import { buildPatient } from '../../support/fixtures';
import { startTestServer, TestServer } from '../../support/server';

const EGN = 'http://opennhis.org/fhir/sid/bg-egn';
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
}, 180_000);
afterAll(async () => {
  await s.close();
});

function egnPatient(value: string): Record<string, unknown> {
  return buildPatient({ identifier: [{ system: 'urn:oid:9.9', value: 'local-1' }, { system: EGN, value }] });
}

test('a wrong checksum or impossible date is 400 naming Patient.identifier[i].value', async () => {
  const bad = await s.fetch('/Patient', { method: 'POST', json: egnPatient('7523169264') });
  expect(bad.status).toBe(400);
  expect(bad.body.issue[0].expression).toEqual(['Patient.identifier[1].value']);
  expect(bad.body.issue[0].diagnostics).toMatch(/check digit/);
  const impossible = await s.fetch('/Patient', { method: 'POST', json: egnPatient('7502300000') });
  expect(impossible.status).toBe(400);
  expect(impossible.body.issue[0].diagnostics).toMatch(/does not exist/);
});

test('a second patient with the same national id is 409; If-None-Exist returns the first', async () => {
  const first = await s.fetch('/Patient', { method: 'POST', json: egnPatient('7501010010') });
  expect(first.status).toBe(201);
  const second = await s.fetch('/Patient', { method: 'POST', json: egnPatient('7501010010') });
  expect(second.status).toBe(409);
  expect(second.body.issue[0].diagnostics).toContain(`Patient/${first.body.id}`);
  const conditional = await s.fetch('/Patient', { method: 'POST', json: egnPatient('7501010010'), headers: { 'if-none-exist': `identifier=${EGN}|7501010010` } });
  expect(conditional.status).toBe(200);
  expect(conditional.body.id).toBe(first.body.id);
  // The holder may update itself freely.
  expect((await s.fetch(`/Patient/${first.body.id}`, { method: 'PUT', json: { ...first.body, gender: 'female' } })).status).toBe(200);
});

test('20 concurrent creates of one national id make exactly one Patient', async () => {
  const results = await Promise.all(Array.from({ length: 20 }, () => s.fetch('/Patient', { method: 'POST', json: egnPatient('0041010002') })));
  expect(results.filter((r) => r.status === 201)).toHaveLength(1);
  expect(results.filter((r) => r.status === 409)).toHaveLength(19);
  const found = await s.fetch(`/Patient?identifier=${encodeURIComponent(`${EGN}|0041010002`)}&_total=accurate`);
  expect(found.body.total).toBe(1);
});

test('an inactive or deleted patient releases the id', async () => {
  const a = await s.fetch('/Patient', { method: 'POST', json: egnPatient('8032056031') });
  await s.fetch(`/Patient/${a.body.id}`, { method: 'PUT', json: { ...a.body, active: false } });
  const b = await s.fetch('/Patient', { method: 'POST', json: egnPatient('8032056031') });
  expect(b.status).toBe(201);
  await s.fetch(`/Patient/${b.body.id}`, { method: 'DELETE' });
  expect((await s.fetch('/Patient', { method: 'POST', json: egnPatient('8032056031') })).status).toBe(201);
});

test('searches naming a national id check it too: a mistyped one is 400 naming the parameter, not an empty result', async () => {
  const q = (p: string) => s.fetch(p);
  const plain = await q(`/Patient?identifier=${encodeURIComponent(`${EGN}|7523169264`)}`);
  expect(plain.status).toBe(400);
  expect(plain.body.issue[0].expression).toEqual(['identifier']);
  const chained = await q(`/MedicationRequest?subject:Patient.identifier=${encodeURIComponent(`${EGN}|7523169264`)}`);
  expect(chained.status).toBe(400);
  expect(chained.body.issue[0].expression).toEqual(['subject:Patient.identifier']);
  const posted = await s.fetch('/Patient/_search', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `identifier=${encodeURIComponent(`${EGN}|7502300000`)}` });
  expect(posted.status).toBe(400);
  // Valid ids and other systems search as usual.
  expect((await q(`/Patient?identifier=${encodeURIComponent(`${EGN}|7501010010`)}`)).status).toBe(200);
  expect((await q(`/Patient?identifier=${encodeURIComponent('urn:oid:9.9|7523169264')}`)).status).toBe(200);
});
