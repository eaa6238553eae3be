// Creates inside transaction Bundles run the same write rules as single creates:
// one Patient per national id, registry references resolve, temporary ids assigned.
import { BG_EGN_SYSTEM, buildObservation, validEgn } from '../../support/fixtures';
import { startTestServer, type TestServer } from '../../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ env: { REGISTRY_MODE: 'strict' } });
}, 180_000);
afterAll(async () => {
  await s?.close();
});

const admin = () => ({ authorization: `Bearer ${s.tokens.registryAdmin}` });
const patient = (egn: string) => ({ resourceType: 'Patient', identifier: [{ system: BG_EGN_SYSTEM, value: egn }], name: [{ family: 'Koleva' }], gender: 'female', birthDate: '1975-05-05' });
const txn = (entries: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry: entries });
const post = (resource: Record<string, unknown>) => ({ resource, request: { method: 'POST', url: resource.resourceType } });
const countByEgn = async (egn: string) => (await s.fetch(`/Patient?identifier=${encodeURIComponent(`${BG_EGN_SYSTEM}|${egn}`)}&_total=accurate`)).body.total;

test('two Patients with one national id in a transaction: refused, nothing stored', async () => {
  const egn = validEgn();
  const res = await s.fetch('/', { method: 'POST', headers: admin(), json: txn([post(patient(egn)), post(patient(egn))]) });
  expect(res.status).toBe(409);
  expect(res.body.issue[0].expression[0]).toMatch(/^Bundle\.entry\[1\]/);
  expect(await countByEgn(egn)).toBe(0);
});

test('a Patient created by a transaction holds its national id: a later create with it is 409', async () => {
  const egn = validEgn();
  expect((await s.fetch('/', { method: 'POST', headers: admin(), json: txn([post(patient(egn))]) })).status).toBe(200);
  expect(await countByEgn(egn)).toBe(1);
  const again = await s.fetch('/Patient', { method: 'POST', headers: admin(), json: patient(egn) });
  expect(again.status).toBe(409);
  expect(await countByEgn(egn)).toBe(1);
});

test('a clinical entry referencing a missing Patient is 422 naming the element; nothing stored', async () => {
  const marker = `m-${Date.now()}`;
  const res = await s.fetch('/', {
    method: 'POST',
    json: txn([post(buildObservation({ identifier: [{ system: 'urn:test', value: marker }], subject: { reference: 'Patient/does-not-exist' } }))]),
  });
  expect(res.status).toBe(422);
  expect(res.body.issue.some((i: any) => (i.expression ?? []).some((e: string) => e.startsWith('Bundle.entry[0].resource.subject')))).toBe(true);
  expect((await s.fetch(`/Observation?identifier=urn:test|${marker}`)).body.entry ?? []).toHaveLength(0);
});
