// Every wait on the database is bounded (issue 12, item 2): lock_timeout and statement_timeout
// per connection, a deadline for reads, and a refusal for want of a pooled connection that
// costs one wait, not three.
import { findAuditRows } from '../../src/repository/audit-events';
import { openDatabase } from '../../src/repository/db';
import { auditEventJson } from '../../src/store/audit/audit-event-json';
import { Client } from 'pg';
import { buildPatient } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

async function connect(url: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  await c.connect();
  return c;
}

/** Runs `fn` while another session holds `lock table <table> in access exclusive mode`. */
async function withTableLocked<T>(s: TestServer, table: string, fn: () => Promise<T>): Promise<T> {
  const blocker = await connect(s.database!.url);
  try {
    await blocker.query('begin');
    await blocker.query(`lock table ${table} in access exclusive mode`);
    return await fn();
  } finally {
    await blocker.query('rollback').catch(() => undefined);
    await blocker.end();
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - start };
}

/** The AuditEvents of a request id, read through a connection of its own. */
async function auditsOf(s: TestServer, requestId: string): Promise<any[]> {
  const handle = await openDatabase({ databaseUrl: s.database!.url, poolSize: 1 });
  try {
    const rows = await findAuditRows(handle.db, { conditions: [{ kind: 'in', column: 'request_id', values: [requestId] }], descending: true, limit: 10 });
    return rows.map((r) => auditEventJson(r));
  } finally {
    await handle.close();
  }
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a statement waiting for a lock ends after DB_LOCK_TIMEOUT_MS with a 503; nothing is stored; the refusal is audited', async () => {
  const s = await startTestServer({ env: { DB_LOCK_TIMEOUT_MS: '500' } });
  try {
    const created = await s.fetch('/Patient', { method: 'POST', json: buildPatient() });
    const marker = `lock-${Date.now()}`;
    const { read, write } = await withTableLocked(s, 'resource', async () => {
      const read = await timed(() => s.fetch(`/Patient/${created.body.id}`, { headers: { 'x-request-id': `${marker}-read` } }));
      const write = await timed(() => s.fetch('/Patient', { method: 'POST', json: buildPatient({ name: [{ family: marker }] }) }));
      return { read, write };
    });
    for (const r of [read, write]) {
      expect(r.value.status).toBe(503);
      expect(r.value.headers.get('retry-after')).toBeTruthy();
      expect(r.value.body.issue[0].details.coding[0].code).toBe('NHIS-1504');
      expect(r.ms).toBeLessThan(5000);
    }
    expect((await s.fetch(`/Patient?family=${marker}`)).body.total ?? (await s.fetch(`/Patient?family=${marker}`)).body.entry?.length ?? 0).toBe(0);
    const audits = await eventually(() => auditsOf(s, `${marker}-read`), (a) => a.length > 0);
    expect(audits).toHaveLength(1);
    expect(audits[0].outcome).toBe('8');
  } finally {
    await s.close();
  }
});

test('statement_timeout bounds a statement; a read past REQUEST_TIMEOUT_MS answers 503; a write is never cut short', async () => {
  const s = await startTestServer({ env: { DB_LOCK_TIMEOUT_MS: '0', DB_STATEMENT_TIMEOUT_MS: '1500', REQUEST_TIMEOUT_MS: '400' } });
  try {
    const created = await s.fetch('/Patient', { method: 'POST', json: buildPatient() });
    const { read, write } = await withTableLocked(s, 'resource', async () => {
      const [read, write] = await Promise.all([
        timed(() => s.fetch(`/Patient/${created.body.id}`)),
        timed(() => s.fetch('/Patient', { method: 'POST', json: buildPatient() })),
      ]);
      return { read, write };
    });
    // The read is answered at its deadline, the write when its statement is cancelled.
    expect(read.value.status).toBe(503);
    expect(read.value.body.issue[0].diagnostics).toMatch(/did not complete within 400 ms/);
    expect(read.ms).toBeLessThan(1400);
    expect(write.value.status).toBe(503);
    expect(write.value.body.issue[0].diagnostics).toMatch(/took too long/);
    expect(write.ms).toBeGreaterThanOrEqual(1400);
    expect(write.ms).toBeLessThan(6000);
    // The server is fine afterwards.
    expect((await s.fetch(`/Patient/${created.body.id}`)).status).toBe(200);
  } finally {
    await s.close();
  }
});

test('a request that gets no pooled connection answers 503 after DB_ACQUIRE_TIMEOUT_MS, without waiting again to audit it', async () => {
  const s = await startTestServer({ env: { DB_POOL_SIZE: '1', DB_ACQUIRE_TIMEOUT_MS: '1500', DB_LOCK_TIMEOUT_MS: '0', RATE_LIMIT_PER_MINUTE: '0' } });
  try {
    const created = await s.fetch('/Patient', { method: 'POST', json: buildPatient() });
    const criteria = `identifier=urn:x|held-${Date.now()}`;
    const blocker = await connect(s.database!.url);
    let held: Promise<unknown> | undefined;
    let starved: { value: Awaited<ReturnType<TestServer['fetch']>>; ms: number };
    const requestId = `starved-${Date.now()}`;
    try {
      // The conditional create waits for this lock holding the only pooled connection.
      await blocker.query('select pg_advisory_lock(hashtextextended($1, 0))', [`conditional:Patient?${criteria}`]);
      held = s.fetch('/Patient', { method: 'POST', json: buildPatient(), headers: { 'if-none-exist': criteria } });
      await new Promise((r) => setTimeout(r, 300));
      starved = await timed(() => s.fetch(`/Patient/${created.body.id}`, { headers: { 'x-request-id': requestId } }));
    } finally {
      await blocker.query('select pg_advisory_unlock_all()');
      await blocker.end();
    }
    expect(starved.value.status).toBe(503);
    expect(starved.value.headers.get('retry-after')).toBe('1');
    // One wait of 1.5 s; looking up the patient and writing the audit used to wait 1.5 s each again.
    expect(starved.ms).toBeGreaterThanOrEqual(1400);
    expect(starved.ms).toBeLessThan(2700);
    expect(((await held) as { status: number }).status).toBe(201);
    // The refusal's AuditEvent went to the local spool and reaches the trail once a connection is free.
    const audits = await eventually(() => auditsOf(s, requestId), (a) => a.length > 0);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ outcome: '8', outcomeDesc: 'The database is unavailable' });
    expect(audits[0].entity.some((e: any) => e.what?.reference === `Patient/${created.body.id}`)).toBe(true);
  } finally {
    await s.close();
  }
});
