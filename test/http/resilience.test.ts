// The server survives database trouble: an exhausted pool answers 503 instead of hanging.
// Outages (PostgreSQL stopped and restarted) are in database-outage.test.ts, on a private cluster.
import { Client } from 'pg';
import { buildPatient } from '../support/fixtures';
import { startTestServer, TestServer } from '../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ env: { DB_POOL_SIZE: '1', DB_ACQUIRE_TIMEOUT_MS: '300' } });
}, 180_000);
afterAll(async () => {
  await s.close();
});

test('an exhausted pool answers 503 with Retry-After instead of hanging', async () => {
  const criteria = `identifier=urn:x|held-${Date.now()}`;
  const blocker = new Client({ connectionString: s.database!.url });
  await blocker.connect();
  try {
    // Hold the conditional-create lock so the request below keeps the only pooled connection busy.
    await blocker.query('select pg_advisory_lock(hashtextextended($1, 0))', [`conditional:Patient?${criteria}`]);
    const held = s.fetch('/Patient', { method: 'POST', json: buildPatient(), headers: { 'if-none-exist': criteria } });
    await new Promise((r) => setTimeout(r, 200));
    const starved = await s.fetch('/Patient/anything');
    expect(starved.status).toBe(503);
    expect(starved.headers.get('retry-after')).toBeTruthy();
    expect(starved.body.resourceType).toBe('OperationOutcome');
    await blocker.query('select pg_advisory_unlock_all()');
    expect((await held).status).toBe(201);
  } finally {
    await blocker.end();
  }
});
