// PostgreSQL stopped and restarted under the server, on a cluster of the test's own (never the
// shared one): 503 during the outage, success after it without restarting the server, and the
// AuditEvents of the requests refused meanwhile kept on local disk and moved into the trail
// once the database is back (issue 12, item 4).
import { findAuditRows } from '../../src/repository/audit-events';
import { auditEventJson } from '../../src/store/audit/audit-event-json';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildPatient } from '../support/fixtures';
import { canRunPrivatePostgres, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres';
import { startTestServer, type TestServer } from '../support/server';

let pg: PrivatePostgres;
let s: TestServer;
beforeAll(async () => {
  pg = await startPrivatePostgres();
  const url = await pg.createDatabase('outage');
  s = await startTestServer({ databaseUrl: url, env: { DB_ACQUIRE_TIMEOUT_MS: '1000' } });
}, 120_000);
afterAll(async () => {
  await s?.close();
  pg?.destroy();
});

function spooledText(): string {
  const root = path.join(s.config.dataDir, 'audit-spool');
  if (!existsSync(root)) return '';
  return readdirSync(root)
    .flatMap((d) => readdirSync(path.join(root, d)).map((f) => readFileSync(path.join(root, d, f), 'utf8')))
    .join('');
}

async function auditsOf(requestId: string): Promise<any[]> {
  const rows = await findAuditRows(s.running.db, { conditions: [{ kind: 'in', column: 'request_id', values: [requestId] }], descending: true, limit: 10 });
  return rows.map((r) => auditEventJson(r));
}

(canRunPrivatePostgres ? test : test.skip)('a PostgreSQL restart: 503 meanwhile, refusals audited to the local spool, then success and the audits in the trail, without restarting the server', async () => {
  const created = await s.fetch('/Patient', { method: 'POST', json: buildPatient() });
  expect(created.status).toBe(201);
  const marker = `outage-${Date.now()}`;
  pg.stop('fast');
  try {
    const during = await s.fetch(`/Patient/${created.body.id}`, { headers: { 'x-request-id': `${marker}-read` } });
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBeTruthy();
    expect(during.body.resourceType).toBe('OperationOutcome');
    const bad = await s.fetch('/Patient', { headers: { authorization: 'Bearer not-a-token', 'x-request-id': `${marker}-auth` } });
    expect(bad.status).toBe(401);
    expect((await s.fetch('/readyz', { anonymous: true })).status).toBe(503);
    // Both refusals are on local disk before their answers went out.
    const spooled = spooledText();
    expect(spooled).toContain(`${marker}-read`);
    expect(spooled).toContain(`${marker}-auth`);
  } finally {
    pg.start();
  }
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = (await s.fetch(`/Patient/${created.body.id}`)).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 200));
  }
  expect(status).toBe(200);
  // Moved into the trail by the server's background step (every 2 s), and then off the disk.
  let read: any[] = [];
  let auth: any[] = [];
  for (let i = 0; i < 50 && (read.length === 0 || auth.length === 0); i++) {
    [read, auth] = [await auditsOf(`${marker}-read`), await auditsOf(`${marker}-auth`)];
    if (read.length === 0 || auth.length === 0) await new Promise((r) => setTimeout(r, 200));
  }
  expect(read).toHaveLength(1);
  expect(read[0]).toMatchObject({ outcome: '8', outcomeDesc: 'The database is unavailable' });
  expect(read[0].entity.some((e: any) => e.what?.reference === `Patient/${created.body.id}`)).toBe(true);
  expect(auth).toHaveLength(1);
  expect(auth[0].subtype[0].code).toBe('110122');
  expect(spooledText()).toBe('');
  // And searchable like every other event.
  const auditor = await s.clientToken({ role: 'auditor' });
  const trail = await s.fetch(`/AuditEvent?patient=${created.body.id}&outcome=8`, { headers: { authorization: `Bearer ${auditor}` } });
  expect(trail.status).toBe(200);
  expect(trail.body.entry.map((e: any) => e.resource.id)).toContain(read[0].id);
}, 90_000);
