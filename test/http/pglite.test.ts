// The same core behaviour on the embedded PGlite that `npm start` uses by default.
import { buildPatient } from '../support/fixtures';
import { startTestServer, TestServer } from '../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ pglite: true });
}, 180_000);
afterAll(async () => {
  await s.close();
});

test('create, read, update with If-Match, history, delete', async () => {
  const created = await s.fetch('/Patient', { method: 'POST', json: buildPatient() });
  expect(created.status).toBe(201);
  const id = created.body.id;
  expect((await s.fetch(`/Patient/${id}`)).body).toEqual(created.body);
  const updated = await s.fetch(`/Patient/${id}`, { method: 'PUT', json: { ...created.body, gender: 'male' }, headers: { 'if-match': 'W/"1"' } });
  expect(updated.status).toBe(200);
  expect((await s.fetch(`/Patient/${id}`, { method: 'PUT', json: created.body, headers: { 'if-match': 'W/"1"' } })).status).toBe(412);
  const hist = await s.fetch(`/Patient/${id}/_history`);
  expect(hist.body.entry).toHaveLength(2);
  expect((await s.fetch(`/Patient/${id}`, { method: 'DELETE' })).status).toBe(200);
  expect((await s.fetch(`/Patient/${id}`)).status).toBe(410);
});

test('decimal precision and concurrent conditional creates', async () => {
  const text = '{"resourceType":"Observation","status":"final","code":{"text":"t"},"valueQuantity":{"value":2.50}}';
  const created = await s.fetch('/Observation', { method: 'POST', body: text, headers: { 'content-type': 'application/fhir+json' } });
  expect((await s.fetch(`/Observation/${created.body.id}`)).text).toContain('"value":2.50');

  const patient = buildPatient({ identifier: [{ system: 'urn:x', value: 'one' }] });
  const results = await Promise.all(
    Array.from({ length: 8 }, () => s.fetch('/Patient', { method: 'POST', json: patient, headers: { 'if-none-exist': 'identifier=urn:x|one' } })),
  );
  expect(results.filter((r) => r.status === 201)).toHaveLength(1);
  expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
});
