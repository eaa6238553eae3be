// SMART Backend Services token endpoint: https://hl7.org/fhir/smart-app-launch/backend-services.html
// Client authentication by private_key_jwt: https://www.rfc-editor.org/rfc/rfc7523#section-3
import { createHash, createHmac } from 'node:crypto';
import { CLIENT_ASSERTION_TYPE } from '../../src/auth/client-assertion';
import { buildKeyPair, createTestClient, mintClientAssertion, tokenForm, type TestClient } from '../support/tokens';
import { ISSUER, startAuthApp, startSecurityHarness, type SecurityHarness } from './setup';

const TOKEN_URL = `${ISSUER}/auth/token`;
let h: SecurityHarness;
let app: { url: string; close(): Promise<void> };
let pharmacy: TestClient;

beforeAll(async () => {
  h = await startSecurityHarness();
  app = await startAuthApp(h);
  pharmacy = await createTestClient(h.handle.db, { role: 'pharmacy', organization: 'PH001' });
}, 180_000);
afterAll(async () => {
  await app.close();
  await h.close();
});

async function postToken(form: URLSearchParams | string, contentType = 'application/x-www-form-urlencoded') {
  const res = await fetch(`${app.url}/auth/token`, { method: 'POST', headers: { 'content-type': contentType }, body: form.toString() });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const claimsNow = (tc: TestClient, extra: Record<string, unknown> = {}) => {
  const now = Math.floor(Date.now() / 1000);
  return { iss: tc.client.id, sub: tc.client.id, aud: TOKEN_URL, jti: `${Math.random()}`, iat: now, exp: now + 60, ...extra };
};

describe('successful client_credentials grant', () => {
  test('issues a short-lived Bearer token with requested ∩ allowed scopes, no-store', async () => {
    const res = await postToken(tokenForm(await mintClientAssertion(pharmacy, TOKEN_URL), 'system/MedicationRequest.rs system/Observation.rs system/MedicationDispense.cruds'));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, scope: 'system/MedicationRequest.rs system/MedicationDispense.c' });
    const [header, payload] = res.body.access_token.split('.').slice(0, 2).map((p: string) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toEqual({ alg: 'ES384', kid: expect.any(String), typ: 'at+jwt' });
    expect(payload).toMatchObject({ iss: ISSUER, aud: ISSUER, sub: pharmacy.client.id, client_id: pharmacy.client.id, role: 'pharmacy', organization: 'PH001' });
    expect(payload.exp - payload.iat).toBe(300);
    const principal = await h.auth.authenticate(`Bearer ${res.body.access_token}`);
    expect(principal).toMatchObject({ kind: 'client', role: 'pharmacy', organization: 'PH001', scopes: ['system/MedicationRequest.rs', 'system/MedicationDispense.c'] });
  });

  test('a wildcard request is narrowed to what the client may have', async () => {
    const res = await postToken(tokenForm(await mintClientAssertion(pharmacy, TOKEN_URL), 'system/*.rs'));
    expect(res.status).toBe(200);
    expect(res.body.scope.split(' ').sort()).toEqual(
      ['Medication', 'MedicationRequest', 'Organization', 'Patient', 'Practitioner', 'PractitionerRole', 'Task'].map((t) => `system/${t}.rs`).sort(),
    );
  });

  test('an RS384 client works too; v1 scopes are mapped to v2', async () => {
    const lab = await createTestClient(h.handle.db, { role: 'laboratory', alg: 'RS384', scopes: ['system/Observation.cruds'] });
    const res = await postToken(tokenForm(await mintClientAssertion(lab, TOKEN_URL), 'system/Observation.read'));
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('system/Observation.rs');
  });

  test('granular scopes keep their restriction', async () => {
    const lab = await createTestClient(h.handle.db, { role: 'laboratory', scopes: ['system/Observation.rs?category=laboratory'] });
    const res = await postToken(tokenForm(await mintClientAssertion(lab, TOKEN_URL), 'system/Observation.rs'));
    expect(res.body.scope).toBe('system/Observation.rs?category=laboratory');
  });
});

describe('client authentication failures are invalid_client 401', () => {
  const expectInvalidClient = async (assertion: string, reason: RegExp) => {
    const res = await postToken(tokenForm(assertion, 'system/MedicationRequest.rs'));
    expect([res.status, res.body.error]).toEqual([401, 'invalid_client']);
    expect(res.body.error_description).toMatch(reason);
    expect(res.headers.get('cache-control')).toBe('no-store');
  };

  test('forged signature (another key under the registered kid)', async () => {
    const other = await buildKeyPair('ES384');
    await expectInvalidClient(await mintClientAssertion(pharmacy, TOKEN_URL, { signWith: { ...other.privateJwk, kid: pharmacy.privateJwk.kid } }), /signature/);
  });
  test('tampered payload', async () => {
    const good = await mintClientAssertion(pharmacy, TOKEN_URL);
    const [hd, , sig] = good.split('.');
    await expectInvalidClient(`${hd}.${b64url(claimsNow(pharmacy, { scope: 'x' }))}.${sig}`, /signature/);
  });
  test('expired', async () => {
    await expectInvalidClient(await mintClientAssertion(pharmacy, TOKEN_URL, { iat: -400, exp: -120 }), /expired/);
  });
  test('not yet valid (nbf in the future)', async () => {
    await expectInvalidClient(await mintClientAssertion(pharmacy, TOKEN_URL, { nbf: 600, exp: 290 }), /not yet valid/);
  });
  test('exp more than five minutes ahead', async () => {
    await expectInvalidClient(await mintClientAssertion(pharmacy, TOKEN_URL, { exp: 3600 }), /at most 300 seconds/);
  });
  test('wrong aud', async () => {
    await expectInvalidClient(await mintClientAssertion(pharmacy, 'https://other.example/auth/token'), /aud/);
  });
  test('wrong iss (another registered client, sub unchanged)', async () => {
    const other = await createTestClient(h.handle.db, { role: 'pharmacy' });
    await expectInvalidClient(await mintClientAssertion(pharmacy, TOKEN_URL, { claims: { iss: other.client.id } }), /claim|signature|no registered key/);
  });
  test('iss and sub differ', async () => {
    await expectInvalidClient(await mintClientAssertion(pharmacy, TOKEN_URL, { claims: { sub: 'someone-else' } }), /sub/);
  });
  test('unknown client', async () => {
    await expectInvalidClient(await mintClientAssertion({ ...pharmacy, client: { ...pharmacy.client, id: 'nobody' } }, TOKEN_URL), /unknown or inactive/);
  });
  test('inactive client', async () => {
    const gone = await createTestClient(h.handle.db, { role: 'pharmacy', active: false });
    await expectInvalidClient(await mintClientAssertion(gone, TOKEN_URL), /unknown or inactive/);
  });
  test('alg none', async () => {
    await expectInvalidClient(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claimsNow(pharmacy))}.`, /alg must be/);
  });
  test('HS256 signed with the public key as the MAC secret', async () => {
    const header = b64url({ alg: 'HS256', kid: pharmacy.publicJwk.kid });
    const body = b64url(claimsNow(pharmacy));
    for (const secret of [JSON.stringify(pharmacy.publicJwk), pharmacy.publicJwk.x as string]) {
      const sig = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
      await expectInvalidClient(`${header}.${body}.${sig}`, /alg must be/);
    }
  });
  test('RS256 (not pinned) is refused', async () => {
    const rs = await createTestClient(h.handle.db, { role: 'pharmacy', alg: 'RS384' });
    const rs256 = await buildKeyPair('RS256');
    await expectInvalidClient(await mintClientAssertion(rs, TOKEN_URL, { signWith: rs256.privateJwk }), /alg must be/);
  });
  test('unknown kid', async () => {
    await expectInvalidClient(await mintClientAssertion(pharmacy, TOKEN_URL, { header: { kid: 'no-such-kid' } }), /no registered key/);
  });
  test('missing jti', async () => {
    await expectInvalidClient(await mintClientAssertion(pharmacy, TOKEN_URL, { claims: { jti: undefined } }), /jti/);
  });
  test('not a JWT', async () => {
    await expectInvalidClient('garbage', /not a JWT/);
  });
  test('wrong client_assertion_type', async () => {
    const form = tokenForm(await mintClientAssertion(pharmacy, TOKEN_URL), 'system/Task.rs');
    form.set('client_assertion_type', 'urn:other');
    const res = await postToken(form);
    expect([res.status, res.body.error]).toEqual([401, 'invalid_client']);
  });
});

describe('replay', () => {
  test('a client assertion (jti) is accepted once', async () => {
    const assertion = await mintClientAssertion(pharmacy, TOKEN_URL);
    expect((await postToken(tokenForm(assertion, 'system/Task.rs'))).status).toBe(200);
    const again = await postToken(tokenForm(assertion, 'system/Task.rs'));
    expect([again.status, again.body.error]).toEqual([401, 'invalid_client']);
    expect(again.body.error_description).toMatch(/replayed/);
  });
  test('concurrent replays: exactly one wins (unique constraint)', async () => {
    const assertion = await mintClientAssertion(pharmacy, TOKEN_URL);
    const results = await Promise.all(Array.from({ length: 8 }, () => postToken(tokenForm(assertion, 'system/Task.rs'))));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
  });
  test('the same jti from two different clients is independent', async () => {
    const other = await createTestClient(h.handle.db, { role: 'pharmacy' });
    const jti = createHash('sha256').update(`${Date.now()}`).digest('hex');
    expect((await postToken(tokenForm(await mintClientAssertion(pharmacy, TOKEN_URL, { claims: { jti } }), 'system/Task.rs'))).status).toBe(200);
    expect((await postToken(tokenForm(await mintClientAssertion(other, TOKEN_URL, { claims: { jti } }), 'system/Task.rs'))).status).toBe(200);
  });
});

describe('request errors (RFC 6749 §5.2)', () => {
  test('no scope allowed → invalid_scope 400', async () => {
    const res = await postToken(tokenForm(await mintClientAssertion(pharmacy, TOKEN_URL), 'system/Observation.rs patient/*.rs'));
    expect([res.status, res.body.error]).toEqual([400, 'invalid_scope']);
  });
  test('missing scope → invalid_scope', async () => {
    const res = await postToken(tokenForm(await mintClientAssertion(pharmacy, TOKEN_URL), ''));
    expect([res.status, res.body.error]).toEqual([400, 'invalid_scope']);
  });
  test('other grant types → unsupported_grant_type', async () => {
    const res = await postToken(new URLSearchParams({ grant_type: 'password', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: 'x' }));
    expect([res.status, res.body.error]).toEqual([400, 'unsupported_grant_type']);
  });
  test('JSON body → invalid_request', async () => {
    const res = await postToken(JSON.stringify({ grant_type: 'client_credentials' }), 'application/json');
    expect([res.status, res.body.error]).toEqual([400, 'invalid_request']);
  });
  test('parameters in the URL are refused', async () => {
    const res = await fetch(`${app.url}/auth/token?client_assertion=x`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(res.status).toBe(400);
  });
});

describe('discovery', () => {
  test('smart-configuration', async () => {
    const res = await fetch(`${app.url}/.well-known/smart-configuration`);
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({
      issuer: ISSUER,
      token_endpoint: TOKEN_URL,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
      grant_types_supported: ['client_credentials'],
    });
    expect(body.capabilities).toEqual(expect.arrayContaining(['client-confidential-asymmetric', 'permission-v2']));
  });
  test('jwks holds public keys only', async () => {
    const body = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
    expect(body.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of body.keys) {
      expect(k).toMatchObject({ kid: expect.any(String), alg: 'ES384', use: 'sig', kty: 'EC' });
      expect(k.d).toBeUndefined();
    }
  });
});
