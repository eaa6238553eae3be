// Transaction Bundles: https://hl7.org/fhir/R4/http.html#transaction
import { Client } from 'pg';
import { buildObservation, buildPatient } from '../../support/fixtures';
import { startTestServer, TestServer } from '../../support/server';

const SYS = 'https://example.org/national-id';
let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
}, 180_000);
afterAll(async () => {
  await s.close();
}, 30_000);

const uid = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const txn = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });
const post = (resource: Record<string, unknown>, fullUrl?: string, extra: Record<string, unknown> = {}) => ({
  fullUrl,
  resource,
  request: { method: 'POST', url: resource.resourceType, ...extra },
});

async function count(type: string, query: string): Promise<number> {
  const res = await s.fetch(`/${type}?${query}&_total=accurate&_summary=count`);
  return res.body.total;
}

async function sql<T = any>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: s.database!.url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

test('urn:uuid and urn:oid fullUrls are rewritten everywhere: nested, extensions, contained', async () => {
  const value = uid();
  const patient = buildPatient({ identifier: [{ system: SYS, value }] });
  const org = { resourceType: 'Organization', name: `Org ${value}` };
  const obs = buildObservation({
    subject: { reference: 'urn:uuid:7f3a1d2e-0000-4000-8000-000000000001' },
    performer: [{ reference: 'urn:oid:1.2.3.4.5' }],
    extension: [{ url: 'https://example.org/ext', valueReference: { reference: 'urn:uuid:7f3a1d2e-0000-4000-8000-000000000001' } }],
    contained: [{ resourceType: 'Specimen', id: 'sp', subject: { reference: 'urn:uuid:7f3a1d2e-0000-4000-8000-000000000001' } }],
    specimen: { reference: '#sp' },
  });
  const res = await s.fetch('/', {
    method: 'POST',
    json: txn([
      post(obs, 'urn:uuid:7f3a1d2e-0000-4000-8000-000000000003'),
      post(patient, 'urn:uuid:7f3a1d2e-0000-4000-8000-000000000001'),
      post(org, 'urn:oid:1.2.3.4.5'),
    ]),
  });
  expect(res.status).toBe(200);
  expect(res.body.type).toBe('transaction-response');
  const [o, p, g] = res.body.entry;
  expect(p.response.status).toBe('201 Created');
  expect(p.response.location).toMatch(/^Patient\/[^/]+\/_history\/1$/);
  expect(p.response.etag).toBe('W/"1"');
  expect(p.response.lastModified).toBeDefined();
  const patientRef = `Patient/${p.resource.id}`;
  expect(o.resource.subject.reference).toBe(patientRef);
  expect(o.resource.performer[0].reference).toBe(`Organization/${g.resource.id}`);
  expect(o.resource.extension[0].valueReference.reference).toBe(patientRef);
  expect(o.resource.contained[0].subject.reference).toBe(patientRef);
  expect(o.resource.specimen.reference).toBe('#sp');
  const stored = await s.fetch(`/Observation/${o.resource.id}`);
  expect(stored.body.subject.reference).toBe(patientRef);
});

test('a failing last entry rolls back everything; nothing is left behind', async () => {
  const value = uid();
  // AuditEvents of the refused request are the one thing a failure leaves.
  const before = await sql(`select count(*)::int as n from resource where resource_type <> 'AuditEvent'`);
  const res = await s.fetch('/', {
    method: 'POST',
    json: txn([
      post(buildPatient({ identifier: [{ system: SYS, value }] }), 'urn:uuid:aaaaaaaa-0000-4000-8000-000000000001'),
      post(buildObservation({ subject: { reference: 'urn:uuid:aaaaaaaa-0000-4000-8000-000000000001' } })),
      { request: { method: 'DELETE', url: 'Observation/does-not-exist' } },
      { resource: buildObservation({ id: 'abc' }), request: { method: 'PUT', url: 'Observation/abc', ifMatch: 'W/"7"' } },
    ]),
  });
  expect(res.status).toBe(412);
  expect(res.body.issue[0].expression).toEqual(['Bundle.entry[3].request.ifMatch']);
  expect(res.body.issue[0].diagnostics).toMatch(/^entry\[3\]/);
  expect(await count('Patient', `identifier=${SYS}|${value}`)).toBe(0);
  const after = await sql(`select count(*)::int as n from resource where resource_type <> 'AuditEvent'`);
  expect(after[0].n).toBe(before[0].n);
});

test('every failing entry is reported, with expression and fullUrl, before anything is written', async () => {
  const res = await s.fetch('/', {
    method: 'POST',
    json: txn([
      post(buildPatient(), 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000001'),
      post(buildObservation({ status: undefined }), 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000002'),
      post(buildPatient({ gender: 42 }), 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000003'),
      { request: { method: 'PATCH', url: 'Patient/x' } },
      post(buildObservation({ bogusElement: true }), 'urn:uuid:bbbbbbbb-0000-4000-8000-000000000005'),
    ]),
  });
  expect(res.status).toBe(400);
  const issues = res.body.issue as { expression: string[]; diagnostics: string }[];
  const byEntry = (i: number) => issues.filter((x) => x.expression.some((e) => e.startsWith(`Bundle.entry[${i}]`)));
  expect(byEntry(0)).toHaveLength(0);
  expect(byEntry(1).some((x) => x.expression.includes('Bundle.entry[1].resource.status'))).toBe(true);
  expect(byEntry(1)[0].diagnostics).toContain('urn:uuid:bbbbbbbb-0000-4000-8000-000000000002');
  expect(byEntry(2).some((x) => x.expression.includes('Bundle.entry[2].resource.gender'))).toBe(true);
  expect(byEntry(3)).toHaveLength(1);
  expect(byEntry(4).some((x) => x.expression.includes('Bundle.entry[4].resource.bogusElement'))).toBe(true);
  expect(byEntry(4)[0].diagnostics).toContain('urn:uuid:bbbbbbbb-0000-4000-8000-000000000005');
});

test('a reference to a urn that no entry declares fails with 422 naming the element', async () => {
  const res = await s.fetch('/', {
    method: 'POST',
    json: txn([post(buildObservation({ subject: { reference: 'urn:uuid:cccccccc-0000-4000-8000-000000000009' } }), 'urn:uuid:cccccccc-0000-4000-8000-000000000001')]),
  });
  expect(res.status).toBe(422);
  expect(res.body.issue[0].expression).toEqual(['Bundle.entry[0].resource.subject.reference']);
});

test('conditional references: one match resolves; none or several fail the whole transaction', async () => {
  const one = uid();
  const two = uid();
  await s.fetch('/Patient', { method: 'POST', json: buildPatient({ identifier: [{ system: SYS, value: one }] }) });
  for (let i = 0; i < 2; i++) await s.fetch('/Patient', { method: 'POST', json: buildPatient({ identifier: [{ system: SYS, value: two }] }) });
  const ok = await s.fetch('/', { method: 'POST', json: txn([post(buildObservation({ subject: { reference: `Patient?identifier=${SYS}|${one}` } }))]) });
  expect(ok.status).toBe(200);
  const found = await s.fetch(`/Patient?identifier=${encodeURIComponent(`${SYS}|${one}`)}`);
  expect(ok.body.entry[0].resource.subject.reference).toBe(`Patient/${found.body.entry[0].resource.id}`);

  const marker = uid();
  const bad = await s.fetch('/', {
    method: 'POST',
    json: txn([
      post(buildPatient({ identifier: [{ system: SYS, value: marker }] })),
      post(buildObservation({ subject: { reference: `Patient?identifier=${SYS}|none-${marker}` } }), 'urn:uuid:dddddddd-0000-4000-8000-000000000001'),
      post(buildObservation({ subject: { reference: `Patient?identifier=${SYS}|${two}` } }), 'urn:uuid:dddddddd-0000-4000-8000-000000000002'),
    ]),
  });
  expect(bad.status).toBe(412);
  expect(bad.body.issue).toHaveLength(2);
  expect(bad.body.issue[0].expression).toEqual(['Bundle.entry[1].resource.subject.reference']);
  expect(bad.body.issue[0].diagnostics).toMatch(/entry\[1\] \(fullUrl urn:uuid:dddddddd-0000-4000-8000-000000000001\).*matches no Patient/);
  expect(bad.body.issue[1].expression).toEqual(['Bundle.entry[2].resource.subject.reference']);
  expect(bad.body.issue[1].diagnostics).toMatch(/more than one Patient/);
  expect(await count('Patient', `identifier=${SYS}|${marker}`)).toBe(0);
});

test('ifNoneExist, conditional update and delete, If-Match and GET entries in one transaction', async () => {
  const value = uid();
  const existing = await s.fetch('/Patient', { method: 'POST', json: buildPatient({ identifier: [{ system: SYS, value }] }) });
  // Hospitals write clinical data; registry resources are updated and deleted by registry administrators only.
  const toDelete = await s.fetch('/Observation', { method: 'POST', json: buildObservation() });
  const toUpdate = await s.fetch('/Observation', { method: 'POST', json: buildObservation({ identifier: [{ system: SYS, value: `${value}-u` }] }) });
  const res = await s.fetch('/', {
    method: 'POST',
    json: txn([
      { request: { method: 'GET', url: `Patient/${existing.body.id}` } },
      post(buildPatient({ identifier: [{ system: SYS, value }] }), 'urn:uuid:eeeeeeee-0000-4000-8000-000000000001', { ifNoneExist: `identifier=${SYS}|${value}` }),
      post(buildObservation({ subject: { reference: 'urn:uuid:eeeeeeee-0000-4000-8000-000000000001' } })),
      { request: { method: 'DELETE', url: `Observation/${toDelete.body.id}` } },
      {
        resource: buildObservation({ identifier: [{ system: SYS, value: `${value}-u` }], status: 'amended' }),
        request: { method: 'PUT', url: `Observation?identifier=${SYS}|${value}-u`, ifMatch: 'W/"1"' },
      },
      { request: { method: 'GET', url: `Observation?identifier=${SYS}|${value}-u` } },
    ]),
  });
  expect(res.status).toBe(200);
  const e = res.body.entry;
  expect(e[0].response.status).toBe('200 OK');
  expect(e[1].response.status).toBe('200 OK');
  expect(e[1].resource.id).toBe(existing.body.id);
  expect(e[2].resource.subject.reference).toBe(`Patient/${existing.body.id}`);
  expect(e[3].response.status).toBe('204 No Content');
  expect(e[4].response.status).toBe('200 OK');
  expect(e[4].response.etag).toBe('W/"2"');
  expect(e[4].resource.id).toBe(toUpdate.body.id);
  // The search entry runs last, inside the transaction, and sees the update.
  expect(e[5].resource.resourceType).toBe('Bundle');
  expect(e[5].resource.entry[0].resource.status).toBe('amended');
  expect((await s.fetch(`/Observation/${toDelete.body.id}`)).status).toBe(410);
});

test('Prefer: return=minimal and return=OperationOutcome shape the entries', async () => {
  const minimal = await s.fetch('/', { method: 'POST', json: txn([post(buildPatient())]), headers: { prefer: 'return=minimal' } });
  expect(minimal.body.entry[0].resource).toBeUndefined();
  expect(minimal.body.entry[0].response.location).toMatch(/^Patient\//);
  const oo = await s.fetch('/', { method: 'POST', json: txn([post(buildPatient())]), headers: { prefer: 'return=OperationOutcome' } });
  expect(oo.body.entry[0].response.outcome.resourceType).toBe('OperationOutcome');
});

test('two concurrent transactions creating the same patient by ifNoneExist yield one Patient', async () => {
  const value = uid();
  const bundle = () =>
    txn([
      post(buildPatient({ identifier: [{ system: SYS, value }] }), 'urn:uuid:ffffffff-0000-4000-8000-000000000001', { ifNoneExist: `identifier=${SYS}|${value}` }),
      post(buildObservation({ subject: { reference: 'urn:uuid:ffffffff-0000-4000-8000-000000000001' } })),
    ]);
  const results = await Promise.all(Array.from({ length: 6 }, () => s.fetch('/', { method: 'POST', json: bundle() })));
  expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
  const ids = new Set(results.map((r) => r.body.entry[0].resource.id));
  expect(ids.size).toBe(1);
  expect(results.filter((r) => r.body.entry[0].response.status === '201 Created')).toHaveLength(1);
  for (const r of results) expect(r.body.entry[1].resource.subject.reference).toBe(`Patient/${[...ids][0]}`);
  expect(await count('Patient', `identifier=${SYS}|${value}`)).toBe(1);
});

test('a database failure in the middle leaves nothing half-written and is never a 2xx', async () => {
  await sql(`create or replace function nhis_test_fail() returns trigger language plpgsql as $$
    begin if new.content like '%FAIL-MARKER%' then raise exception 'injected failure'; end if; return new; end $$`);
  await sql(`create trigger nhis_test_fail before insert on resource_history for each row execute function nhis_test_fail()`);
  try {
    const value = uid();
    const res = await s.fetch('/', {
      method: 'POST',
      json: txn([
        post(buildPatient({ identifier: [{ system: SYS, value }] })),
        post(buildPatient({ identifier: [{ system: SYS, value }], name: [{ family: 'FAIL-MARKER' }] })),
      ]),
    });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(await count('Patient', `identifier=${SYS}|${value}`)).toBe(0);
    const leftovers = await sql(`select count(*)::int as n from resource_history where content like '%${value}%'`);
    expect(leftovers[0].n).toBe(0);
  } finally {
    await sql(`drop trigger nhis_test_fail on resource_history`);
  }
});

test('a deadlock or serialization failure is retried and then succeeds', async () => {
  // Sequences are not rolled back, so this fails the first attempt only.
  await sql(`create sequence nhis_test_attempts`);
  await sql(`create or replace function nhis_test_40001() returns trigger language plpgsql as $$
    begin
      if new.content like '%RETRY-MARKER%' and nextval('nhis_test_attempts') = 1 then
        raise exception using errcode = '40001', message = 'injected serialization failure';
      end if;
      return new;
    end $$`);
  await sql(`create trigger nhis_test_40001 before insert on resource for each row execute function nhis_test_40001()`);
  try {
    const value = uid();
    const res = await s.fetch('/', { method: 'POST', json: txn([post(buildPatient({ identifier: [{ system: SYS, value }], name: [{ family: 'RETRY-MARKER' }] }))]) });
    expect(res.status).toBe(200);
    expect(await count('Patient', `identifier=${SYS}|${value}`)).toBe(1);
  } finally {
    await sql(`drop trigger nhis_test_40001 on resource`);
  }
});
