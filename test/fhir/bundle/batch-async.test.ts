// Batch (https://hl7.org/fhir/R4/http.html#transaction), Idempotency-Key, entry limit and
// asynchronous Bundles (https://hl7.org/fhir/R4/async.html).
import { Client } from 'pg';
import { buildObservation, buildPatient } from '../../support/fixtures';
import { startTestServer, TestServer } from '../../support/server';

const SYS = 'https://example.org/national-id';
const ENV = { BUNDLE_MAX_ENTRIES: '5', JOB_POLL_INTERVAL_MS: '50', JOB_LEASE_MS: '2000' };
let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({ env: ENV });
}, 180_000);
afterAll(async () => {
  await s.close();
}, 30_000);

const uid = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const bundle = (type: string, entry: unknown[]) => ({ resourceType: 'Bundle', type, entry });
const post = (resource: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ resource, request: { method: 'POST', url: resource.resourceType, ...extra } });

async function count(server: TestServer, type: string, query: string): Promise<number> {
  const res = await server.fetch(`/${type}?${query}&_total=accurate&_summary=count`);
  return res.body.total;
}

async function poll(server: TestServer, url: string, timeoutMs = 30_000): Promise<{ status: number; body: any; progress: string[] }> {
  const path = new URL(url).pathname;
  const progress: string[] = [];
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await server.fetch(path);
    if (res.status !== 202) return { status: res.status, body: res.body, progress };
    progress.push(res.headers.get('x-progress') ?? '');
    if (Date.now() > until) throw new Error(`job still running: ${progress.at(-1)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('batch: entries succeed or fail on their own, each with its status or outcome', async () => {
  const value = uid();
  const res = await s.fetch('/', {
    method: 'POST',
    json: bundle('batch', [
      post(buildPatient({ identifier: [{ system: SYS, value }] })),
      post(buildObservation({ bogusElement: 1 })),
      { request: { method: 'GET', url: 'Patient/nope' } },
      { resource: buildObservation({ id: 'x1' }), request: { method: 'PUT', url: 'Observation/x1', ifMatch: 'W/"3"' } },
    ]),
  });
  expect(res.status).toBe(200);
  expect(res.body.type).toBe('batch-response');
  const statuses = res.body.entry.map((e: any) => e.response.status);
  expect(statuses).toEqual(['201 Created', '400 Bad Request', '404 Not Found', '412 Precondition Failed']);
  expect(res.body.entry[1].response.outcome.issue[0].expression[0]).toBe('Bundle.entry[1].resource.bogusElement');
  expect(await count(s, 'Patient', `identifier=${SYS}|${value}`)).toBe(1);
});

test('Idempotency-Key: same body replays the stored answer; a different body is 422', async () => {
  const key = `k-${uid()}`;
  const value = uid();
  const body = bundle('transaction', [post(buildPatient({ identifier: [{ system: SYS, value }] }))]);
  const first = await s.fetch('/', { method: 'POST', json: body, headers: { 'idempotency-key': key } });
  expect(first.status).toBe(200);
  const again = await Promise.all([1, 2, 3].map(() => s.fetch('/', { method: 'POST', json: body, headers: { 'idempotency-key': key } })));
  for (const r of again) {
    expect(r.status).toBe(200);
    expect(r.text).toBe(first.text);
    expect(r.headers.get('idempotency-replayed')).toBe('true');
  }
  expect(await count(s, 'Patient', `identifier=${SYS}|${value}`)).toBe(1);
  const other = await s.fetch('/', { method: 'POST', json: bundle('transaction', [post(buildPatient())]), headers: { 'idempotency-key': key } });
  expect(other.status).toBe(422);
  // The same key on another path is another key.
  const create = await s.fetch('/Patient', { method: 'POST', json: buildPatient({ identifier: [{ system: SYS, value: `${value}-c` }] }), headers: { 'idempotency-key': key } });
  expect(create.status).toBe(201);
});

test('Idempotency-Key: concurrent identical first submissions write once', async () => {
  const key = `k-${uid()}`;
  const value = uid();
  const body = bundle('transaction', [post(buildPatient({ identifier: [{ system: SYS, value }] }))]);
  const results = await Promise.all(Array.from({ length: 5 }, () => s.fetch('/', { method: 'POST', json: body, headers: { 'idempotency-key': key } })));
  expect(results.map((r) => r.status)).toEqual(Array(5).fill(200));
  expect(new Set(results.map((r) => r.text)).size).toBe(1);
  expect(await count(s, 'Patient', `identifier=${SYS}|${value}`)).toBe(1);
  // POST /Patient too.
  const pkey = `p-${uid()}`;
  const patient = buildPatient({ identifier: [{ system: SYS, value: `${value}-p` }] });
  const creates = await Promise.all(Array.from({ length: 4 }, () => s.fetch('/Patient', { method: 'POST', json: patient, headers: { 'idempotency-key': pkey } })));
  expect(creates.map((r) => r.status)).toEqual(Array(4).fill(201));
  expect(new Set(creates.map((r) => r.body.id)).size).toBe(1);
  expect(await count(s, 'Patient', `identifier=${SYS}|${value}-p`)).toBe(1);
});

test('past the entry limit: 413 pointing at Prefer: respond-async; async runs it to completion', async () => {
  const value = uid();
  const entries = Array.from({ length: 8 }, (_, i) => ({
    fullUrl: `urn:uuid:00000000-0000-4000-8000-00000000000${i}`,
    ...post(i === 0 ? buildPatient({ identifier: [{ system: SYS, value }] }) : buildObservation({ subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000000' } })),
  }));
  const sync = await s.fetch('/', { method: 'POST', json: bundle('transaction', entries) });
  expect(sync.status).toBe(413);
  expect(sync.body.issue[0].diagnostics).toContain('Prefer: respond-async');

  const accepted = await s.fetch('/', { method: 'POST', json: bundle('transaction', entries), headers: { prefer: 'respond-async' } });
  expect(accepted.status).toBe(202);
  const location = accepted.headers.get('content-location')!;
  expect(location).toMatch(/\/_async\/[0-9a-f-]+$/);
  const done = await poll(s, location);
  expect(done.status).toBe(200);
  expect(done.body.type).toBe('transaction-response');
  expect(done.body.entry).toHaveLength(8);
  const patientId = done.body.entry[0].resource.id;
  expect(done.body.entry[5].resource.subject.reference).toBe(`Patient/${patientId}`);
  expect(await count(s, 'Observation', `subject=Patient/${patientId}`)).toBe(7);
});

test('an async Bundle that fails stores its error outcome; a cancelled one is gone', async () => {
  const accepted = await s.fetch('/', { method: 'POST', json: bundle('transaction', [post(buildObservation({ bogusElement: 1 }))]), headers: { prefer: 'respond-async' } });
  const failed = await poll(s, accepted.headers.get('content-location')!);
  expect(failed.status).toBe(400);
  expect(failed.body.issue[0].expression[0]).toBe('Bundle.entry[0].resource.bogusElement');

  const unknown = await s.fetch('/_async/no-such-job');
  expect(unknown.status).toBe(404);
});

test('a job claimed by a dead worker is reclaimed after its lease and applied once', async () => {
  const value = uid();
  const c = new Client({ connectionString: s.database!.url });
  await c.connect();
  try {
    const id = `dead-${uid()}`;
    const job = {
      kind: 'transaction',
      entries: JSON.stringify([post(buildPatient({ identifier: [{ system: SYS, value }] }))]),
      info: { baseUrl: s.url, requestId: 'r1', prefer: 'representation' },
    };
    // As a crashed worker leaves it: running, lease already expired, claim token of nobody alive.
    await c.query(
      `insert into bundle_job (id, status, request, entry_count, attempts, claim_token, lease_until, created_at, updated_at)
       values ($1, 'running', $2, 1, 1, 'dead-worker', now() - interval '1 second', now(), now())`,
      [id, JSON.stringify(job)],
    );
    const done = await poll(s, `${s.url}/_async/${id}`);
    expect(done.status).toBe(200);
    expect(await count(s, 'Patient', `identifier=${SYS}|${value}`)).toBe(1);
    const { rows } = await c.query(`select status, attempts from bundle_job where id = $1`, [id]);
    expect(rows[0]).toEqual({ status: 'done', attempts: 2 });
  } finally {
    await c.end();
  }
});

test('DELETE cancels a job: a cancelled job is never applied and its status URL is gone', async () => {
  const c = new Client({ connectionString: s.database!.url });
  await c.connect();
  try {
    const value = uid();
    const job = {
      kind: 'transaction',
      entries: JSON.stringify([post(buildPatient({ identifier: [{ system: SYS, value }] }))]),
      info: { baseUrl: s.url, requestId: 'r2', prefer: 'representation' },
    };
    // Held by another (live) worker, so no worker here may take it until its lease runs out.
    const id = `cancel-${uid()}`;
    await c.query(
      `insert into bundle_job (id, status, request, entry_count, attempts, claim_token, lease_until, created_at, updated_at)
       values ($1, 'running', $2, 1, 1, 'someone', now() + interval '1 hour', now(), now())`,
      [id, JSON.stringify(job)],
    );
    expect((await s.fetch(`/_async/${id}`)).status).toBe(202);
    expect((await s.fetch(`/_async/${id}`, { method: 'DELETE' })).status).toBe(202);
    // Its worker dies; the job is reclaimed, seen to be cancelled and never run.
    await c.query(`update bundle_job set lease_until = now() - interval '1 second' where id = $1`, [id]);
    const after = await poll(s, `${s.url}/_async/${id}`);
    expect(after.status).toBe(404);
    expect(await count(s, 'Patient', `identifier=${SYS}|${value}`)).toBe(0);
    expect((await s.fetch(`/_async/${id}`, { method: 'DELETE' })).status).toBe(202);
  } finally {
    await c.end();
  }
});

test('PGlite: the same transaction, idempotency and async code runs on the embedded database', async () => {
  const p = await startTestServer({ pglite: true, env: ENV });
  try {
    const value = uid();
    const entries = [
      { fullUrl: 'urn:uuid:11111111-0000-4000-8000-000000000001', ...post(buildPatient({ identifier: [{ system: SYS, value }] }), { ifNoneExist: `identifier=${SYS}|${value}` }) },
      post(buildObservation({ subject: { reference: 'urn:uuid:11111111-0000-4000-8000-000000000001' } })),
      { request: { method: 'GET', url: `Patient?identifier=${SYS}|${value}` } },
    ];
    const sync = await p.fetch('/', { method: 'POST', json: bundle('transaction', entries), headers: { 'idempotency-key': 'pg-1' } });
    expect(sync.status).toBe(200);
    expect(sync.body.entry[2].resource.total ?? sync.body.entry[2].resource.entry.length).toBe(1);
    const replay = await p.fetch('/', { method: 'POST', json: bundle('transaction', entries), headers: { 'idempotency-key': 'pg-1' } });
    expect(replay.text).toBe(sync.text);
    const accepted = await p.fetch('/', { method: 'POST', json: bundle('transaction', entries), headers: { prefer: 'respond-async' } });
    expect(accepted.status).toBe(202);
    const done = await poll(p, accepted.headers.get('content-location')!);
    expect(done.status).toBe(200);
    expect(done.body.entry[0].response.status).toBe('200 OK');
    expect(await count(p, 'Patient', `identifier=${SYS}|${value}`)).toBe(1);
  } finally {
    await p.close();
  }
}, 180_000);
