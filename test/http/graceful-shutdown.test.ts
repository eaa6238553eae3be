// SIGTERM under load from keep-alive clients (issue 12, item 3): answers say Connection: close,
// requests that arrive on kept-alive connections are refused unprocessed, no connection is cut
// while its write may have committed, and the server (cluster primary included) exits within
// its grace period. src/main.ts runs as production runs it, in a child process.
import { Agent, request } from 'node:http';
import { Client } from 'pg';
import { buildPatient } from '../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { openDatabase } from '../../src/repository/db';
import { createTestClient, obtainAccessTokenHttp } from '../support/tokens';

interface Outcome {
  value: string;
  sentAt: number;
  receivedAt?: number;
  status?: number;
  connection?: string;
  error?: string;
}

function post(agent: Agent, base: string, token: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; connection?: string; text: string }> {
  const url = new URL(`${base}/Patient`);
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}`, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let database: TestDatabase;
let proc: ServerProcess | undefined;
afterAll(async () => {
  await proc?.dispose();
  await database?.drop();
});

test('SIGTERM with keep-alive clients: Connection: close, late requests refused unprocessed, no committed write unanswered, exit within the grace period', async () => {
  database = await createTestDatabase();
  const graceMs = 3000;
  proc = await startServerProcess(
    { DATABASE_URL: database.url, WORKERS: '2', SHUTDOWN_TIMEOUT_MS: String(graceMs), DB_LOCK_TIMEOUT_MS: '0', RATE_LIMIT_PER_MINUTE: '0', AUTH_ISSUER: 'https://nhis.test/fhir' },
    { listening: 2 },
  );
  const handle = await openDatabase({ databaseUrl: database.url });
  const client = await createTestClient(handle.db, { role: 'hospital', scopes: ['system/*.cruds'] });
  await handle.close();
  const token = await obtainAccessTokenHttp(proc.url, client);
  const marker = `sigterm-${Date.now()}`;

  // A write that cannot finish within the grace period: it waits for a lock the test holds.
  const blocker = new Client({ connectionString: database.url });
  await blocker.connect();
  const stuckValue = `${marker}-stuck`;
  await blocker.query('select pg_advisory_lock(hashtextextended($1, 0))', [`conditional:Patient?identifier=urn:x|${stuckValue}`]);
  const stuckAgent = new Agent({ keepAlive: true });
  const stuck = post(stuckAgent, proc.url, token, JSON.stringify(buildPatient({ identifier: [{ system: 'urn:x', value: stuckValue }] })), {
    'if-none-exist': `identifier=urn:x|${stuckValue}`,
  }).catch((e: Error) => e);

  // Eight keep-alive clients writing as fast as they can until the server is gone.
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const outcomes: Outcome[] = [];
  let serial = 0;
  let sigtermAt = Number.POSITIVE_INFINITY;
  const loops = Array.from({ length: 8 }, async () => {
    for (;;) {
      const value = `${marker}-${serial++}`;
      const outcome: Outcome = { value, sentAt: Date.now() };
      outcomes.push(outcome);
      try {
        const res = await post(agent, proc!.url, token, JSON.stringify(buildPatient({ identifier: [{ system: 'urn:x', value }] })));
        outcome.receivedAt = Date.now();
        outcome.status = res.status;
        outcome.connection = res.connection;
      } catch (err) {
        outcome.error = (err as NodeJS.ErrnoException).code ?? String(err);
        // Refused connections: the server no longer listens; done.
        if (outcome.error === 'ECONNREFUSED' || Date.now() > sigtermAt + graceMs + 3000) return;
      }
    }
  });
  await new Promise((r) => setTimeout(r, 1500));
  sigtermAt = Date.now();
  proc.kill('SIGTERM');
  const exit = await proc.exited;
  const exitedAfterMs = Date.now() - sigtermAt;
  await Promise.all(loops);
  const stuckAnswer = await stuck;
  await blocker.query('select pg_advisory_unlock_all()');
  await blocker.end();
  agent.destroy();
  stuckAgent.destroy();

  // The process (primary and workers) ended cleanly, within the grace period (and a margin for
  // the processes to exit), although a request was still running when it began.
  expect(exit).toEqual({ code: 0, signal: null });
  expect(exitedAfterMs).toBeLessThan(graceMs + 2000);

  // The stuck write was rolled back and answered, not cut off.
  expect(stuckAnswer).not.toBeInstanceOf(Error);
  expect((stuckAnswer as { status: number }).status).toBe(503);

  // Load before the signal was served.
  expect(outcomes.filter((o) => o.sentAt < sigtermAt && o.status === 201).length).toBeGreaterThan(10);
  // Once both workers had begun shutting down (they log it; the primary forwards the signal),
  // no request was processed: each was answered 503 with Connection: close, or found its
  // kept-alive connection closed while idle (nothing of it reached the server), or no server.
  const begun = proc.logs.filter((l) => l.msg === 'shutting down').map((l) => Number(l.time));
  expect(begun).toHaveLength(2);
  const shutdownAt = Math.max(...begun);
  const after = outcomes.filter((o) => o.sentAt > shutdownAt + 5);
  expect(after.length).toBeGreaterThan(0);
  for (const o of after) {
    if (o.status !== undefined) expect([o.status, o.connection]).toEqual([503, 'close']);
    else expect(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']).toContain(o.error);
  }
  // Requests running when shutdown began were answered, saying Connection: close.
  for (const o of outcomes.filter((x) => x.receivedAt !== undefined && x.receivedAt > shutdownAt + 50)) expect(o.connection).toBe('close');

  // Nothing stored went unanswered: each stored Patient's request got its 201.
  const c = new Client({ connectionString: database.url });
  await c.connect();
  const { rows } = await c.query(
    `select content::json->'identifier'->0->>'value' as value from resource where resource_type = 'Patient' and not deleted and content like $1`,
    [`%${marker}%`],
  );
  await c.end();
  const stored = new Set(rows.map((r) => r.value as string));
  const acknowledged = new Set(outcomes.filter((o) => o.status === 201).map((o) => o.value));
  expect([...stored].filter((v) => !acknowledged.has(v))).toEqual([]);
  expect([...acknowledged].filter((v) => !stored.has(v))).toEqual([]);
  expect(stored.has(stuckValue)).toBe(false);
}, 120_000);
