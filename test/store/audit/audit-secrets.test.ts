// No secret in the audit trail or the logs (issue 11 §3): a whole ePrescription workflow over HTTP —
// its access code, claim secret and access tokens travel in queries and headers — then every stored
// audit row and every log line the server wrote are searched for them. And every change to the
// client registry is audited, under the operator who made it.
import { sql } from 'kysely';
import { buildDispense, buildMedicationRequest, param, prescribedItems } from '../../domain/prescription/prescription-setup';
import { BG_EGN_SYSTEM, validEgn } from '../../support/fixtures';
import { startTestServer, type TestServer } from '../../support/server';
import { buildKeyPair } from '../../support/tokens';

const BOOTSTRAP = 'operator-bootstrap-credential-for-the-audit-test-0123';
let s: TestServer;
const logs: string[] = [];

beforeAll(async () => {
  s = await startTestServer({ logLines: logs, env: { ADMIN_BOOTSTRAP_TOKEN: BOOTSTRAP } });
});
afterAll(async () => {
  await s?.close();
});

/** Every column of every audit row, as text. */
async function auditText(): Promise<string> {
  const rows = await sql<{ t: string }>`select row_to_json(a)::text as t from audit_event a`.execute(s.running.db);
  return rows.rows.map((r) => r.t).join('\n');
}

test('access codes, claim secrets and tokens are in no stored audit event and no log line', async () => {
  const prescriber = await s.clientToken({ role: 'prescriber', organization: 'HOSP01' });
  const pharmacy = await s.clientToken({ role: 'pharmacy', organization: 'PH001' });
  const egn = validEgn();
  const patient = await s.fetch('/Patient', { method: 'POST', json: { resourceType: 'Patient', identifier: [{ system: BG_EGN_SYSTEM, value: egn }], name: [{ family: 'Georgieva' }], gender: 'female', birthDate: '1975-05-05' } });
  const practitioner = await s.fetch('/Practitioner', { method: 'POST', json: { resourceType: 'Practitioner', name: [{ family: 'Petrov' }] } });
  const prescribed = await s.fetch('/MedicationRequest/$prescribe', { method: 'POST', headers: { authorization: `Bearer ${prescriber}` }, json: buildMedicationRequest(patient.body.id, practitioner.body.id, { quantity: 30 }) });
  expect(prescribed.status).toBe(200);
  const [p] = prescribedItems(prescribed.body);
  const accepted = await s.fetch(`/Task/${p.taskId}/$accept?ac=${p.accessCode}`, { method: 'POST', headers: { authorization: `Bearer ${pharmacy}` } });
  expect(accepted.status).toBe(200);
  const secret = param(accepted.body, 'secret').valueString as string;
  expect((await s.fetch(`/Task/${p.taskId}/$dispense?secret=${secret}`, { method: 'POST', headers: { authorization: `Bearer ${pharmacy}` }, json: buildDispense(10) })).status).toBe(200);
  // A wrong secret and a wrong access code are refused, and audited as refusals.
  expect((await s.fetch(`/Task/${p.taskId}/$close?secret=${'0'.repeat(64)}`, { method: 'POST', headers: { authorization: `Bearer ${pharmacy}` }, json: buildDispense(20) })).status).toBe(403);
  expect((await s.fetch(`/Task/${p.taskId}/$close?secret=${secret}`, { method: 'POST', headers: { authorization: `Bearer ${pharmacy}` }, json: buildDispense(20) })).status).toBe(200);
  expect((await s.fetch(`/Task/${p.taskId}/$accept?ac=${p.accessCode}`, { method: 'POST', headers: { authorization: `Bearer ${pharmacy}` } })).status).toBe(409);

  const trail = await auditText();
  expect(trail).toContain(p.taskId);
  expect(trail).toContain('REDACTED');
  const logText = logs.join('\n');
  expect(logText).toContain('"path":"/Task/');
  for (const [what, value] of [['access code', p.accessCode], ['claim secret', secret], ['prescriber token', prescriber], ['pharmacy token', pharmacy]] as const) {
    expect([what, trail.includes(value)]).toEqual([what, false]);
    expect([what, logText.includes(value)]).toEqual([what, false]);
    // The JSON form of an event carries the query base64-encoded: not there either.
    const events = await s.fetch(`/AuditEvent?entity=Task/${p.taskId}&_count=100`, { headers: { authorization: `Bearer ${await s.clientToken({ role: 'auditor' })}` } });
    const decoded = events.body.entry.flatMap((e: { resource: { entity: { query?: string }[] } }) => e.resource.entity.filter((x) => x.query).map((x) => Buffer.from(x.query!, 'base64').toString('utf8')));
    expect(decoded.length).toBeGreaterThan(0);
    expect([what, decoded.join('\n').includes(value)]).toEqual([what, false]);
  }
});

test('every change to a client is audited, under the operator (or the bootstrap credential) that made it', async () => {
  const { publicJwk } = await buildKeyPair('ES384');
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${s.url}${path}`, { method, headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json', 'x-request-id': `client-admin-${method}` }, body: body === undefined ? undefined : JSON.stringify(body) });
  expect((await call('POST', '/admin/clients', { id: 'audited-operator', role: 'operator', scopes: 'admin/clients', jwks: { keys: [publicJwk] } })).status).toBe(201);
  expect((await call('PUT', '/admin/clients/audited-operator', { role: 'operator', scopes: ['admin/clients'], jwks: { keys: [publicJwk] } })).status).toBe(200);
  expect((await call('DELETE', '/admin/clients/audited-operator')).status).toBe(204);
  const auditor = await s.clientToken({ role: 'auditor' });
  for (const [method, action] of [['POST', 'C'], ['PUT', 'U'], ['DELETE', 'D']]) {
    const rows = await sql<{ action: string; entity_type: string; entity_id: string; client_id: string }>`select action, entity_type, entity_id, client_id from audit_event where request_id = ${`client-admin-${method}`}`.execute(s.running.db);
    expect(rows.rows).toEqual([{ action, entity_type: 'client', entity_id: 'audited-operator', client_id: 'operator-bootstrap' }]);
  }
  const events = await s.fetch('/AuditEvent?agent:identifier=operator-bootstrap&_count=10', { headers: { authorization: `Bearer ${auditor}` } });
  expect(events.status).toBe(200);
  expect(events.body.entry.length).toBe(3);
  expect(JSON.stringify(events.body)).toContain('audited-operator');
  expect(JSON.stringify(events.body)).not.toContain(BOOTSTRAP);
});
