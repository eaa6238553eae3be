// Idempotency-Key after a crash (issue 12, item 1): a retry takes over a claim whose owner died
// (the server process, or PostgreSQL under it) instead of answering 409 for ten minutes.
import { Client } from 'pg';
import { buildPatient } from '../../support/fixtures';
import { createTestDatabase } from '../../support/db';
import { canRunPrivatePostgres, startPrivatePostgres } from '../../support/private-postgres';
import { startServerProcess } from '../../support/server-process';
import { startTestServer, type TestServer } from '../../support/server';
import { openDatabase } from '../../../src/repository/db';
import { createTestClient, obtainAccessTokenHttp } from '../../support/tokens';

/** Holds the conditional-create lock of `criteria`, so that a create with If-None-Exist waits for it. */
async function holdConditionalLock(url: string, criteria: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.query('select pg_advisory_lock(hashtextextended($1, 0))', [`conditional:Patient?${criteria}`]);
  return c;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  return { value: await fn(), ms: Date.now() - start };
}

async function patientsWith(s: TestServer, value: string): Promise<number> {
  const res = await s.fetch(`/Patient?identifier=urn:x|${value}`);
  return res.body.entry?.length ?? 0;
}

(canRunPrivatePostgres ? test : test.skip)('PostgreSQL crashes under a keyed request: its 503 releases the claim once the database is back, the retry runs', async () => {
  const pg = await startPrivatePostgres();
  let s: TestServer | undefined;
  try {
    s = await startTestServer({ databaseUrl: await pg.createDatabase('idem'), env: { DB_LOCK_TIMEOUT_MS: '0', DB_ACQUIRE_TIMEOUT_MS: '1000' } });
    const value = `crash-${Date.now()}`;
    const criteria = `identifier=urn:x|${value}`;
    const send = () =>
      s!.fetch('/Patient', { method: 'POST', json: buildPatient({ identifier: [{ system: 'urn:x', value }] }), headers: { 'idempotency-key': value, 'if-none-exist': criteria } });
    const blocker = await holdConditionalLock(s.config.databaseUrl!, criteria);
    blocker.on('error', () => undefined);
    const first = send();
    await new Promise((r) => setTimeout(r, 400));
    pg.stop('immediate');
    const answer = await first;
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    pg.start();
    // The client retries as told; the claim of the failed request is no obstacle.
    let retry = await timed(send);
    for (let i = 0; i < 20 && retry.value.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 250));
      retry = await timed(send);
    }
    expect([retry.value.status, retry.value.text]).toEqual([201, retry.value.text]);
    expect(retry.ms).toBeLessThan(12_000);
    const replay = await send();
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect(replay.body.id).toBe(retry.value.body.id);
    expect(await patientsWith(s, value)).toBe(1);
  } finally {
    await s?.close();
    pg.destroy();
  }
}, 120_000);

test('the server process is killed during a keyed request: a retry to another server takes the claim over within the lease', async () => {
  const database = await createTestDatabase();
  const proc = await startServerProcess({ DATABASE_URL: database.url, WORKERS: '1', DB_LOCK_TIMEOUT_MS: '0', AUTH_ISSUER: 'https://nhis.test/fhir' });
  let s: TestServer | undefined;
  let blocker: Client | undefined;
  try {
    const handle = await openDatabase({ databaseUrl: database.url });
    const client = await createTestClient(handle.db, { role: 'hospital', scopes: ['system/*.cruds'] });
    await handle.close();
    const token = await obtainAccessTokenHttp(proc.url, client);
    const value = `kill-${Date.now()}`;
    const criteria = `identifier=urn:x|${value}`;
    const body = JSON.stringify(buildPatient({ identifier: [{ system: 'urn:x', value }] }));
    const headers = { 'content-type': 'application/fhir+json', 'idempotency-key': value, 'if-none-exist': criteria };
    blocker = await holdConditionalLock(database.url, criteria);
    const first = fetch(`${proc.url}/Patient`, { method: 'POST', body, headers: { ...headers, authorization: `Bearer ${token}` } }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 500));
    proc.kill('SIGKILL');
    await proc.exited;
    // The client saw the connection drop: no answer.
    expect(String(await first)).toMatch(/fetch failed/);
    await blocker.end();
    blocker = undefined;

    s = await startTestServer({ databaseUrl: database.url, env: { AUTH_ISSUER: 'https://nhis.test/fhir' } });
    const retry = await timed(() => s!.fetch('/Patient', { method: 'POST', body, headers: { ...headers, authorization: `Bearer ${token}` } }));
    expect(retry.value.status).toBe(201);
    // Within the 10 s lease of the dead claim (the retry waits up to 15 s for a live twin).
    expect(retry.ms).toBeLessThan(12_000);
    expect(await patientsWith(s, value)).toBe(1);
  } finally {
    await blocker?.end();
    await s?.running.close();
    await proc.dispose();
    await database.drop();
  }
}, 120_000);
