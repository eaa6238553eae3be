// Client registry admin API: operator tokens or the operator bootstrap credential only (issue 11:
// administering clients is a duty apart from keeping registries).
import { buildKeyPair, createTestClient, obtainAccessToken } from '../support/tokens';
import { startAuthApp, startSecurityHarness, type SecurityHarness } from './setup';

const BOOTSTRAP = 'operator-bootstrap-credential-0123456789abcdef';
let h: SecurityHarness;
let app: { url: string; close(): Promise<void> };
beforeAll(async () => {
  h = await startSecurityHarness();
  app = await startAuthApp(h, BOOTSTRAP);
}, 180_000);
afterAll(async () => {
  await app.close();
  await h.close();
});

const call = async (method: string, path: string, auth?: string, body?: unknown) => {
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
};

test('operator bootstraps an operator client, which then manages clients', async () => {
  const { publicJwk } = await buildKeyPair('ES384');
  const created = await call('POST', '/admin/clients', BOOTSTRAP, { id: 'pharm-a', role: 'pharmacy', organization: 'PH001', scopes: 'system/MedicationRequest.rs system/MedicationDispense.c', jwks: { keys: [publicJwk] } });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ id: 'pharm-a', role: 'pharmacy', organization: 'PH001', scopes: ['system/MedicationRequest.rs', 'system/MedicationDispense.c'], active: true });
  expect((await call('POST', '/admin/clients', BOOTSTRAP, { id: 'pharm-a', role: 'pharmacy', scopes: 'system/Task.rs', jwks: { keys: [publicJwk] } })).status).toBe(409);

  const admin = await createTestClient(h.handle.db, { role: 'operator', scopes: ['admin/clients'] });
  const adminToken = await obtainAccessToken(h.auth, admin, 'admin/clients');
  expect((await call('GET', '/admin/clients/pharm-a', adminToken)).body.id).toBe('pharm-a');
  const updated = await call('PUT', '/admin/clients/pharm-a', adminToken, { role: 'pharmacy', organization: 'PH002', scopes: ['system/Task.rs'], jwks: { keys: [publicJwk] } });
  expect(updated.body).toMatchObject({ organization: 'PH002', scopes: ['system/Task.rs'] });
  expect((await call('DELETE', '/admin/clients/pharm-a', adminToken)).status).toBe(204);
  expect((await call('GET', '/admin/clients/pharm-a', adminToken)).body.active).toBe(false);
});

test('no token 401, wrong operator secret 401, other roles (registry administrators too) 403', async () => {
  const none = await call('GET', '/admin/clients');
  expect(none.status).toBe(401);
  expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect((await call('GET', '/admin/clients', `${BOOTSTRAP}x`)).status).toBe(401);
  const hospital = await createTestClient(h.handle.db, { role: 'hospital' });
  const res = await call('GET', '/admin/clients', await obtainAccessToken(h.auth, hospital, 'system/Patient.rs'));
  expect(res.status).toBe(403);
  expect(res.body.issue[0].diagnostics).toMatch(/client-administration-operator-only/);
  const registryAdmin = await createTestClient(h.handle.db, { role: 'registry-admin', scopes: ['system/Patient.cruds'] });
  const asRegistryAdmin = await obtainAccessToken(h.auth, registryAdmin, 'system/Patient.rs');
  const { publicJwk } = await buildKeyPair('ES384');
  const escalation = await call('POST', '/admin/clients', asRegistryAdmin, { id: 'rogue-hospital', role: 'hospital', scopes: 'system/*.cruds', jwks: { keys: [publicJwk] } });
  expect(escalation.status).toBe(403);
  expect((await call('PUT', `/admin/clients/${registryAdmin.client.id}`, asRegistryAdmin, { role: 'registry-admin', scopes: ['system/Patient.cruds'], jwks: { keys: [publicJwk] } })).status).toBe(403);
});

test('bad registrations list every problem with its path', async () => {
  const { privateJwk } = await buildKeyPair('ES384');
  const res = await call('POST', '/admin/clients', BOOTSTRAP, { id: 'bad id', role: 'root', scopes: 'patient/*.rs', jwks: { keys: [privateJwk] } });
  expect(res.status).toBe(400);
  expect(res.body.issue[0].expression).toEqual(['id', 'role', 'scopes', 'jwks.keys[0]']);
  const http = await call('POST', '/admin/clients', BOOTSTRAP, { id: 'x', role: 'hospital', scopes: 'system/*.rs', jwksUri: 'http://keys.example/jwks' });
  expect(http.body.issue[0].expression).toEqual(['jwksUri']);
  const patient = await call('POST', '/admin/clients', BOOTSTRAP, { id: 'x', role: 'patient', scopes: 'system/*.rs', jwksUri: 'https://keys.example/jwks' });
  expect(patient.body.issue[0].expression).toEqual(['role']);
});
