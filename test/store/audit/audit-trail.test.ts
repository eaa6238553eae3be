// Reads are audited through a group commit: every concurrent request gets its own AuditEvent,
// committed before the request answers.
import { buildObservation, buildPatient } from '../../support/fixtures';
import { startTestServer, type TestServer } from '../../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
}, 180_000);
afterAll(async () => {
  await s?.close();
});

test('40 concurrent reads leave 40 AuditEvents, each visible as soon as its read has answered', async () => {
  const p = (await s.fetch('/Patient', { method: 'POST', json: buildPatient() })).body.id;
  const o = (await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference: `Patient/${p}` } }) })).body.id;
  const auditor = await s.clientToken({ role: 'auditor' });
  const reads = await Promise.all(Array.from({ length: 40 }, (_, i) => s.fetch(`/Observation/${o}`, { headers: { 'x-request-id': `batch-read-${i}` } })));
  expect(reads.every((r) => r.status === 200)).toBe(true);
  const events = await s.fetch(`/AuditEvent?entity=Observation/${o}&action=R&_count=100&_total=accurate`, { headers: { authorization: `Bearer ${auditor}` } });
  expect(events.status).toBe(200);
  const requestIds = events.body.entry.map((e: any) => e.resource.entity.find((x: any) => x.type?.code === 'XrequestId')?.what?.identifier?.value);
  for (let i = 0; i < 40; i++) expect(requestIds).toContain(`batch-read-${i}`);
  expect(events.body.total).toBe(40);
  // Each AuditEvent names the patient, so the patient's trail shows the reads.
  expect(events.body.entry.every((e: any) => e.resource.entity.some((x: any) => x.what?.reference === `Patient/${p}`))).toBe(true);
});

describe('AUDIT_READ_COMMIT=fast', () => {
  let f: TestServer;
  beforeAll(async () => {
    f = await startTestServer({ env: { AUDIT_READ_COMMIT: 'fast' } });
  }, 180_000);
  afterAll(async () => {
    await f?.close();
  });

  test('reads are still audited before they answer, one AuditEvent each', async () => {
    const o = (await f.fetch('/Observation', { method: 'POST', json: buildObservation() })).body.id;
    const reads = await Promise.all(Array.from({ length: 10 }, () => f.fetch(`/Observation/${o}`)));
    expect(reads.every((r) => r.status === 200)).toBe(true);
    const auditor = await f.clientToken({ role: 'auditor' });
    const events = await f.fetch(`/AuditEvent?entity=Observation/${o}&action=R&_total=accurate`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(events.body.total).toBe(10);
  });
});
