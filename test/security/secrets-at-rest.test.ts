// Health data is not cached by browsers or proxies, and the server's private signing keys are
// sealed in the database under KEY_ENCRYPTION_KEY (issue 12, item 14).
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { checkServerConfig, loadConfig } from '../../src/config/config';
import { buildPatient } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

const KEK = randomBytes(32).toString('base64');
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ env: { KEY_ENCRYPTION_KEY: KEK } });
});
afterAll(async () => {
  await s?.close();
});

test('answers carrying health data, and refusals, say Cache-Control: no-store', async () => {
  const created = await s.fetch('/Patient', { method: 'POST', json: buildPatient() });
  expect(created.status).toBe(201);
  const answers = [
    created,
    await s.fetch(`/Patient/${created.body.id}`),
    await s.fetch(`/Patient/${created.body.id}/_history/1`),
    await s.fetch('/Patient?gender=female'),
    await s.fetch(`/Patient/${created.body.id}/$everything`),
    await s.fetch('/Patient/does-not-exist'),
    await s.fetch('/Patient', { anonymous: true }),
    await s.fetch('/', { method: 'POST', json: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${created.body.id}` } }] } }),
  ];
  for (const res of answers) expect([res.status, res.headers.get('cache-control')]).toEqual([res.status, 'no-store']);
  // Public documents keep their own caching.
  expect((await s.fetch('/.well-known/jwks.json', { anonymous: true })).headers.get('cache-control')).toBe('public, max-age=60');
});

async function signingKeyRows(url: string): Promise<{ kid: string; private_jwk: string }[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query('select kid, private_jwk from auth_signing_key order by created_at')).rows;
  } finally {
    await c.end();
  }
}

test('private signing keys are sealed at rest; plain keys of an earlier start are sealed; another key only verifies', async () => {
  // The harness' token request made the first key.
  const rows = await signingKeyRows(s.database!.url);
  expect(rows.length).toBe(1);
  expect(rows[0].private_jwk).toMatch(/^sealed:v1:/);
  expect(rows[0].private_jwk).not.toContain('"d"');
  expect((await s.fetch('/Patient?_count=1')).status).toBe(200);

  // A server without the key on its own database stores plain keys (development); started again
  // with a key on the same database, it seals them and keeps signing with them.
  // One issuer for the three servers, so that tokens of one are valid at the others.
  const issuer = { AUTH_ISSUER: 'https://nhis.test/fhir' };
  const plain = await startTestServer({ env: issuer });
  const url = plain.database!.url;
  const [before] = await signingKeyRows(url);
  expect(JSON.parse(before.private_jwk).d).toBeTruthy();
  await plain.running.close();
  const sealed = await startTestServer({ databaseUrl: url, env: { ...issuer, KEY_ENCRYPTION_KEY: KEK } });
  try {
    const after = await signingKeyRows(url);
    expect(after.map((r) => r.kid)).toEqual([before.kid]);
    expect(after[0].private_jwk).toMatch(/^sealed:v1:/);
    // Tokens the plain server issued still verify; the sealed key still signs.
    expect((await sealed.fetch('/Patient?_count=1', { headers: { authorization: `Bearer ${plain.tokens.hospital}` } })).status).toBe(200);
  } finally {
    await sealed.running.close();
  }
  // With another key-encryption key the sealed key cannot sign: a new key is made, the old one still verifies.
  const other = await startTestServer({ databaseUrl: url, env: { ...issuer, KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') } });
  try {
    const keys = await signingKeyRows(url);
    expect(keys.length).toBe(2);
    expect(keys.every((r) => r.private_jwk.startsWith('sealed:v1:'))).toBe(true);
    expect((await other.fetch('/Patient?_count=1', { headers: { authorization: `Bearer ${plain.tokens.hospital}` } })).status).toBe(200);
    expect((await other.fetch('/Patient?_count=1')).status).toBe(200);
  } finally {
    await other.running.close();
    await plain.database!.drop();
  }
});

test('a production server does not start without KEY_ENCRYPTION_KEY; a malformed key is a configuration error', () => {
  expect(() => checkServerConfig(loadConfig({ NODE_ENV: 'production' }))).toThrow(/KEY_ENCRYPTION_KEY is required/);
  expect(() => checkServerConfig(loadConfig({ NODE_ENV: 'production', KEY_ENCRYPTION_KEY: KEK }))).not.toThrow();
  expect(() => loadConfig({ KEY_ENCRYPTION_KEY: 'short' })).toThrow(/KEY_ENCRYPTION_KEY must be 32 bytes/);
});
