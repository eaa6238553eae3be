// The audit trail's intake: read AuditEvents are committed to the outbox before the read answers,
// promoted into the searchable store in the background, and promoted on demand before any read of
// AuditEvents, exactly once whatever runs concurrently.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { buildAuditEvent } from '../../../src/domain/audit/build-audit-event';
import { stampResource, type ResourceBody } from '../../../src/fhir/resource-body';
import { appendToAuditOutbox, auditOutboxBacklog, promoteAuditOutbox } from '../../../src/repository/audit-outbox';
import { createSearchEngine } from '../../../src/fhir/search';
import { createLogger } from '../../../src/shared/logger';
import type { Db } from '../../../src/repository/db';
import { buildObservation, buildPatient } from '../../support/fixtures';
import { startTestServer, type TestServer } from '../../support/server';

const count = async (db: Db, query: ReturnType<typeof sql<{ n: number }>>): Promise<number> => (await query.execute(db)).rows[0].n;
const stored = (db: Db, id: string) => count(db, sql<{ n: number }>`select count(*)::int as n from resource where resource_type = 'AuditEvent' and id = ${id}`);
const inOutbox = (db: Db, id: string) => count(db, sql<{ n: number }>`select count(*)::int as n from audit_outbox where id = ${id}`);

let search: ReturnType<typeof createSearchEngine>;

/** AuditEvents as another process would have appended them (and not yet promoted). */
function outboxEvents(n: number, patientId: string) {
  const lastUpdated = new Date();
  return Array.from({ length: n }, (_, i) => {
    const event = buildAuditEvent({ interaction: 'read', resourceType: 'Observation', id: `o${i}`, patientIds: [patientId], outcome: 'success', requestId: `outbox-${i}`, when: lastUpdated });
    const stamped = stampResource(event as unknown as ResourceBody, randomUUID(), 1, lastUpdated) as ResourceBody & { id: string };
    return { id: stamped.id, lastUpdated, content: JSON.stringify(stamped), index: search.indexRowsOf([stamped])[0].rows };
  });
}

async function waitFor(check: () => Promise<boolean>, ms = 15000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('on PostgreSQL', () => {
  let s: TestServer;
  let auditor: string;
  beforeAll(async () => {
    s = await startTestServer();
    search = createSearchEngine({ db: s.running.db, logger: createLogger('silent') });
    auditor = await s.clientToken({ role: 'auditor' });
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  test("a read's AuditEvent is committed before the read answers, then promoted in the background", async () => {
    const db = s.running.db;
    const o = (await s.fetch('/Observation', { method: 'POST', json: buildObservation() })).body.id;
    const requestId = `outbox-read-${randomUUID()}`;
    const read = await s.fetch(`/Observation/${o}`, { headers: { 'x-request-id': requestId } });
    expect(read.status).toBe(200);
    // Right after the answer the event exists, in the outbox or already promoted.
    const rows = await sql<{ id: string }>`
      select id from audit_outbox where content like ${`%${requestId}%`}
      union all select id from resource where resource_type = 'AuditEvent' and content like ${`%${requestId}%`}`.execute(db);
    expect(rows.rows).toHaveLength(1);
    const id = rows.rows[0].id;
    // Without anyone reading AuditEvents, the background promotion moves it with its index rows.
    await waitFor(async () => (await stored(db, id)) === 1);
    expect(await inOutbox(db, id)).toBe(0);
    expect(await search.findIds(db, 'AuditEvent', new URLSearchParams({ entity: `Observation/${o}`, action: 'R' }), 10)).toEqual([id]);
  });

  test('GET /AuditEvent promotes pending events first, so the trail includes them at once', async () => {
    const db = s.running.db;
    const patientId = `pending-${randomUUID().slice(0, 8)}`;
    const events = outboxEvents(3, patientId);
    await appendToAuditOutbox(db, events, { waitForFlush: true });
    // Every index table the events have rows in is searched: reference, token, date.
    const bundle = await s.fetch(`/AuditEvent?patient=Patient/${patientId}&action=R&subtype=read&date=ge2000-01-01&_total=accurate`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(bundle.status).toBe(200);
    expect(bundle.body.total).toBe(3);
    expect(bundle.body.entry.map((e: { resource: { id: string } }) => e.resource.id).sort()).toEqual(events.map((e) => e.id).sort());
    const one = await s.fetch(`/AuditEvent/${events[0].id}`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(one.status).toBe(200);
    expect(one.body.meta.versionId).toBe('1');
    expect(one.text).toBe(events[0].content); // stored exactly as appended
    for (const e of events) expect(await inOutbox(db, e.id)).toBe(0);
  });

  test('concurrent promoters move every event exactly once', async () => {
    const db = s.running.db;
    const patientId = `many-${randomUUID().slice(0, 8)}`;
    const events = outboxEvents(2500, patientId);
    await appendToAuditOutbox(db, events, { waitForFlush: true });
    const promoteAll = async (wait: boolean) => {
      let total = 0;
      for (;;) {
        const r = await promoteAuditOutbox(db, { wait, limit: 400 });
        total += r.promoted;
        if (!r.ran || r.promoted < 400) return total;
      }
    };
    const moved = await Promise.all([promoteAll(true), promoteAll(true), promoteAll(false), promoteAll(true)]);
    expect(await auditOutboxBacklog(db)).toBe(0);
    const ids = events.map((e) => e.id);
    const n = await count(db, sql<{ n: number }>`select count(*)::int as n from resource where resource_type = 'AuditEvent' and id = any(${ids}::text[])`);
    expect(n).toBe(2500);
    expect(moved.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2500);
    const history = await count(db, sql<{ n: number }>`select count(*)::int as n from resource_history where resource_type = 'AuditEvent' and id = any(${ids}::text[])`);
    expect(history).toBe(2500);
    expect(await search.findIds(db, 'AuditEvent', new URLSearchParams({ patient: `Patient/${patientId}`, _count: '1000' }), 3000)).toHaveLength(2500);
  });

  test('events left in the outbox by a stopped process are promoted when a server starts', async () => {
    const db = s.running.db;
    const events = outboxEvents(5, `left-${randomUUID().slice(0, 8)}`);
    await appendToAuditOutbox(db, events, { waitForFlush: true });
    const second = await startTestServer({ databaseUrl: s.database!.url });
    try {
      await waitFor(async () => (await stored(db, events[4].id)) === 1);
      for (const e of events) expect(await stored(db, e.id)).toBe(1);
    } finally {
      await second.running.close();
    }
  });

  test('a patient sees the read of their record in their own trail at once', async () => {
    const patient = (await s.fetch('/Patient', { method: 'POST', json: buildPatient() })).body.id;
    const obs = (await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference: `Patient/${patient}` } }) })).body.id;
    const requestId = `seen-by-patient-${randomUUID()}`;
    expect((await s.fetch(`/Observation/${obs}`, { headers: { 'x-request-id': requestId } })).status).toBe(200);
    const trail = await s.fetch(`/AuditEvent?patient=Patient/${patient}&entity=Observation/${obs}&action=R`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(trail.status).toBe(200);
    expect(trail.text).toContain(requestId);
  });
});

describe('on the embedded PGlite', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ pglite: true });
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  test('reads are audited through the outbox and the trail shows them', async () => {
    const o = (await s.fetch('/Observation', { method: 'POST', json: buildObservation() })).body.id;
    const reads = await Promise.all(Array.from({ length: 5 }, () => s.fetch(`/Observation/${o}`)));
    expect(reads.every((r) => r.status === 200)).toBe(true);
    const auditor = await s.clientToken({ role: 'auditor' });
    const events = await s.fetch(`/AuditEvent?entity=Observation/${o}&action=R&_total=accurate`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(events.status).toBe(200);
    expect(events.body.total).toBe(5);
  });
});
