// The audit trail's own store (migration 0008): one narrow row per event, committed before a read
// answers, searchable at once; events stored by earlier versions (as generic AuditEvent resources
// or in the outbox) move in, searchable, with any query (which may hold secrets) removed.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { migrationProvider } from '../../../src/repository/migrations';
import { openDatabase } from '../../../src/repository/db';
import { buildAuditEvent } from '../../../src/store/audit/audit-event-json';
import { createTestDatabase } from '../../support/db';
import { buildObservation, buildPatient } from '../../support/fixtures';
import { startTestServer, type TestServer } from '../../support/server';

describe('on PostgreSQL', () => {
  let s: TestServer;
  let auditor: string;
  beforeAll(async () => {
    s = await startTestServer({ env: { RATE_LIMIT_PER_MINUTE: '0' } });
    auditor = await s.clientToken({ role: 'auditor' });
  });
  afterAll(async () => {
    await s?.close();
  });

  test("a read's AuditEvent is one row of the audit table, committed before the read answers, and no generic resource", async () => {
    const p = (await s.fetch('/Patient', { method: 'POST', json: buildPatient() })).body.id;
    const o = (await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference: `Patient/${p}` } }) })).body.id;
    const requestId = `store-${randomUUID()}`;
    expect((await s.fetch(`/Observation/${o}`, { headers: { 'x-request-id': requestId } })).status).toBe(200);
    const rows = await sql<{ id: string; patient_ids: string[]; entity_id: string }>`select id, patient_ids, entity_id from audit_event where request_id = ${requestId}`.execute(s.running.db);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]).toMatchObject({ patient_ids: [p], entity_id: o });
    const generic = await sql<{ n: number }>`select count(*)::int as n from resource where resource_type = 'AuditEvent'`.execute(s.running.db);
    expect(generic.rows[0].n).toBe(0);
    const trail = await s.fetch(`/AuditEvent?patient=Patient/${p}&entity=Observation/${o}&action=R&subtype=read&date=ge2000-01-01&_total=accurate`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(trail.status).toBe(200);
    expect(trail.body.total).toBe(1);
    const one = await s.fetch(`/AuditEvent/${rows.rows[0].id}`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ resourceType: 'AuditEvent', id: rows.rows[0].id, meta: { versionId: '1' }, action: 'R' });
  });

  test('2,500 concurrent audited requests: every event stored exactly once, all searchable by patient, paged to the end', async () => {
    const p = (await s.fetch('/Patient', { method: 'POST', json: buildPatient() })).body.id;
    const batch = 250;
    for (let i = 0; i < 2500; i += batch) {
      const reads = await Promise.all(Array.from({ length: batch }, () => s.fetch(`/Patient/${p}`)));
      expect(reads.every((r) => r.status === 200)).toBe(true);
    }
    const seen = new Set<string>();
    let url: string | undefined = `/AuditEvent?patient=Patient/${p}&action=R&_count=1000&_total=accurate`;
    let total = 0;
    while (url) {
      const page = await s.fetch(url.replace(s.url, ''), { headers: { authorization: `Bearer ${auditor}` } });
      expect(page.status).toBe(200);
      total = page.body.total ?? total;
      for (const e of page.body.entry ?? []) seen.add(e.resource.id);
      url = page.body.link.find((l: { relation: string }) => l.relation === 'next')?.url;
    }
    expect(total).toBe(2500);
    expect(seen.size).toBe(2500);
  });
});

test('events of an earlier version move into the audit store: searchable, their queries (and the secrets in them) gone', async () => {
  const database = await createTestDatabase();
  const handle = await openDatabase({ databaseUrl: database.url, poolSize: 2 });
  try {
    const migrator = new Migrator({ db: handle.db, provider: migrationProvider });
    expect((await migrator.migrateTo('0007-audit-outbox')).error).toBeUndefined();
    const when = new Date('2026-11-20T10:00:00Z');
    const legacy = (id: string, patientId: string) => ({
      ...buildAuditEvent({ interaction: 'operation', resourceType: 'Task', id: 't1', operation: '$accept', query: 'ac=0123456789abcdef', patientIds: [patientId], outcome: 'success', requestId: `legacy-${id}`, when }),
      id,
      meta: { versionId: '1', lastUpdated: when.toISOString() },
    });
    // As the old write path stored it: the query sits base64-encoded in entity.query (now redacted before it is stored).
    const secretQuery = (e: ReturnType<typeof legacy>) => ({ ...e, entity: e.entity!.map((x) => (x.query !== undefined ? { ...x, query: Buffer.from('ac=0123456789abcdef').toString('base64') } : x)) });
    const a = secretQuery(legacy('legacy-a', 'pat-legacy'));
    await sql`insert into resource (resource_type, id, version_id, last_updated, deleted, content) values ('AuditEvent', 'legacy-a', 1, ${when}, false, ${JSON.stringify(a)})`.execute(handle.db);
    await sql`insert into resource_history (resource_type, id, version_id, last_updated, deleted, method, content) values ('AuditEvent', 'legacy-a', 1, ${when}, false, 'create', ${JSON.stringify(a)})`.execute(handle.db);
    await sql`insert into search_reference (resource_type, resource_id, param, grp, target_type, target_id, url) values ('AuditEvent', 'legacy-a', 'patient', 0, 'Patient', 'pat-legacy', null)`.execute(handle.db);
    const b = secretQuery(legacy('legacy-b', 'pat-legacy'));
    await sql`insert into audit_outbox (id, last_updated, content, index_rows) values ('legacy-b', ${when}, ${JSON.stringify(b)}, '{}')`.execute(handle.db);

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const moved = await sql<{ id: string; patient_ids: string[]; action: string; subtype: string; entity_type: string; entity_id: string; request_id: string; legacy: string }>`
      select id, patient_ids, action, subtype, entity_type, entity_id, request_id, legacy from audit_event order by id`.execute(handle.db);
    expect(moved.rows.map((r) => r.id)).toEqual(['legacy-a', 'legacy-b']);
    expect(moved.rows[0]).toMatchObject({ patient_ids: ['pat-legacy'], action: 'E', subtype: 'operation', entity_type: 'Task', entity_id: 't1', request_id: 'legacy-legacy-a' });
    for (const r of moved.rows) {
      expect(r.legacy).not.toContain(Buffer.from('ac=0123456789abcdef').toString('base64'));
      expect(JSON.parse(r.legacy).entity.some((e: { role?: { code?: string } }) => e.role?.code === '24')).toBe(false);
    }
    const left = await sql<{ n: string }>`select (select count(*) from resource where resource_type = 'AuditEvent') + (select count(*) from search_reference where resource_type = 'AuditEvent') as n`.execute(handle.db);
    expect(Number(left.rows[0].n)).toBe(0);
    const outbox = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_name = 'audit_outbox'`.execute(handle.db);
    expect(outbox.rows[0].n).toBe(0);
  } finally {
    await handle.close();
    await database.drop();
  }
});

describe('on the embedded PGlite', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ pglite: true });
  });
  afterAll(async () => {
    await s?.close();
  });

  test('reads are audited and the trail is searchable', async () => {
    const p = (await s.fetch('/Patient', { method: 'POST', json: buildPatient() })).body.id;
    const o = (await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference: `Patient/${p}` } }) })).body.id;
    const reads = await Promise.all(Array.from({ length: 5 }, () => s.fetch(`/Observation/${o}`)));
    expect(reads.every((r) => r.status === 200)).toBe(true);
    const auditor = await s.clientToken({ role: 'auditor' });
    const events = await s.fetch(`/AuditEvent?entity=Observation/${o}&action=R&_total=accurate`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(events.status).toBe(200);
    expect(events.body.total).toBe(5);
  });
});
