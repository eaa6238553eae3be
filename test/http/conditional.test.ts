// Conditional create/update/delete: https://hl7.org/fhir/R4/http.html#ccreate
import { buildPatient } from '../support/fixtures';
import { startTestServer, TestServer } from '../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
}, 180_000);
afterAll(async () => {
  await s.close();
});

const SYS = 'https://example.org/national-id';

test('If-None-Exist returns the existing match with 200 instead of creating', async () => {
  const value = `A-${Date.now()}`;
  const patient = buildPatient({ identifier: [{ system: SYS, value }] });
  const first = await s.fetch('/Patient', { method: 'POST', json: patient, headers: { 'if-none-exist': `identifier=${SYS}|${value}` } });
  expect(first.status).toBe(201);
  const second = await s.fetch('/Patient', { method: 'POST', json: patient, headers: { 'if-none-exist': `identifier=${SYS}|${value}` } });
  expect(second.status).toBe(200);
  expect(second.body.id).toBe(first.body.id);
});

test('N concurrent identical conditional creates produce exactly one resource', async () => {
  const value = `RACE-${Date.now()}`;
  const patient = buildPatient({ identifier: [{ system: SYS, value }] });
  const results = await Promise.all(
    Array.from({ length: 20 }, () => s.fetch('/Patient', { method: 'POST', json: patient, headers: { 'if-none-exist': `identifier=${SYS}|${value}` } })),
  );
  expect(results.filter((r) => r.status === 201)).toHaveLength(1);
  expect(results.filter((r) => r.status === 200)).toHaveLength(19);
  expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
  const found = await s.fetch(`/Patient?identifier=${encodeURIComponent(`${SYS}|${value}`)}&_total=accurate`);
  expect(found.body.total).toBe(1);
});

test('If-None-Exist with two matches is 412; with an unknown parameter 400', async () => {
  const value = `DUP-${Date.now()}`;
  for (let i = 0; i < 2; i++) await s.fetch('/Patient', { method: 'POST', json: buildPatient({ identifier: [{ system: SYS, value }] }) });
  const res = await s.fetch('/Patient', { method: 'POST', json: buildPatient(), headers: { 'if-none-exist': `identifier=${SYS}|${value}` } });
  expect(res.status).toBe(412);
  const unknown = await s.fetch('/Patient', { method: 'POST', json: buildPatient(), headers: { 'if-none-exist': 'no-such-param=1' } });
  expect(unknown.status).toBe(400);
});

test('conditional update: creates when none match, updates the single match, 412 on several', async () => {
  const value = `CU-${Date.now()}`;
  const q = `/Patient?identifier=${encodeURIComponent(`${SYS}|${value}`)}`;
  const created = await s.fetch(q, { method: 'PUT', json: buildPatient({ identifier: [{ system: SYS, value }] }) });
  expect(created.status).toBe(201);
  const updated = await s.fetch(q, { method: 'PUT', json: buildPatient({ identifier: [{ system: SYS, value }], gender: 'male' }) });
  expect(updated.status).toBe(200);
  expect(updated.body.id).toBe(created.body.id);
  expect(updated.body.meta.versionId).toBe('2');
  await s.fetch('/Patient', { method: 'POST', json: buildPatient({ identifier: [{ system: SYS, value }] }) });
  expect((await s.fetch(q, { method: 'PUT', json: buildPatient() })).status).toBe(412);
});

test('conditional delete removes the single match', async () => {
  const value = `CD-${Date.now()}`;
  const created = await s.fetch('/Patient', { method: 'POST', json: buildPatient({ identifier: [{ system: SYS, value }] }) });
  const q = `/Patient?identifier=${encodeURIComponent(`${SYS}|${value}`)}`;
  expect((await s.fetch(q, { method: 'DELETE' })).status).toBe(200);
  expect((await s.fetch(`/Patient/${created.body.id}`)).status).toBe(410);
  expect((await s.fetch(q, { method: 'DELETE' })).status).toBe(200);
});

test('system search with _type and Patient compartment search are routed', async () => {
  const value = `CMP-${Date.now()}`;
  const patient = await s.fetch('/Patient', { method: 'POST', json: buildPatient({ identifier: [{ system: SYS, value }] }) });
  const obs = await s.fetch('/Observation', {
    method: 'POST',
    json: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${patient.body.id}` } },
  });
  expect(obs.status).toBe(201);
  const compartment = await s.fetch(`/Patient/${patient.body.id}/Observation`);
  expect(compartment.status).toBe(200);
  expect(compartment.body.entry.map((e: any) => e.resource.id)).toEqual([obs.body.id]);
  const system = await s.fetch(`/?_type=Patient&identifier=${encodeURIComponent(`${SYS}|${value}`)}`);
  expect(system.status).toBe(200);
  expect(system.body.entry.map((e: any) => e.resource.id)).toEqual([patient.body.id]);
});
