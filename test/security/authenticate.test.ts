// Bearer token verification (RFC 6750) for client and patient tokens.
import { createHmac } from 'node:crypto';
import type { FhirError } from '../../src/errors/fhir-error';
import { createAuthService } from '../../src/auth/auth-service';
import { buildKeyPair, createTestClient, mintClientAssertion, mintPatientToken, obtainAccessToken, tokenForm, type TestClient } from '../support/tokens';
import { ISSUER, startSecurityHarness, type SecurityHarness } from './setup';

const IDP_ISSUER = 'https://eid.test/idp';
let h: SecurityHarness;
let other: SecurityHarness;
let hospital: TestClient;
let idp: Awaited<ReturnType<typeof buildKeyPair>>;

beforeAll(async () => {
  idp = await buildKeyPair('RS256');
  const patientIdp = { issuer: IDP_ISSUER, audience: ISSUER, nationalIdClaim: 'national_id', jwks: { keys: [idp.publicJwk] } };
  h = await startSecurityHarness({}, { patientIdp, resolvePatient: async (nid) => (nid === '7501011234' ? 'pat-1' : undefined) });
  // Another server with the same issuer name but its own database and keys.
  other = await startSecurityHarness();
  hospital = await createTestClient(h.handle.db, { role: 'hospital', organization: 'HOSP01' });
}, 180_000);
afterAll(async () => {
  await h.close();
  await other.close();
});

async function rejected(header: string | undefined, reason?: RegExp): Promise<FhirError> {
  const err = (await h.auth.authenticate(header).then(
    () => undefined,
    (e: unknown) => e,
  )) as FhirError;
  expect(err).toBeDefined();
  expect(err.status).toBe(401);
  expect(err.headers['WWW-Authenticate']).toMatch(/^Bearer realm="OpenNHIS"/);
  if (reason) expect(err.message).toMatch(reason);
  return err;
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

test('a valid token gives the principal', async () => {
  const token = await obtainAccessToken(h.auth, hospital, 'system/Observation.rs');
  expect(await h.auth.authenticate(`Bearer ${token}`)).toMatchObject({
    kind: 'client',
    clientId: hospital.client.id,
    role: 'hospital',
    organization: 'HOSP01',
    scopes: ['system/Observation.rs'],
  });
  expect(await h.auth.authenticate(`bearer ${token}`)).toMatchObject({ role: 'hospital' });
});

test('missing header: 401 with a bare Bearer challenge', async () => {
  const err = await rejected(undefined);
  expect(err.headers['WWW-Authenticate']).toBe('Bearer realm="OpenNHIS"');
  expect(err.issues[0]).toMatchObject({ code: 'login', nhisCode: 'NHIS-1401' });
});

test('other schemes and garbage', async () => {
  await rejected('Basic dXNlcjpwYXNz', /Bearer <token>/);
  await rejected('Bearer', /Bearer <token>/);
  await rejected('Bearer not-a-jwt', /malformed/);
  const err = await rejected('Bearer a.b.c');
  expect(err.headers['WWW-Authenticate']).toMatch(/error="invalid_token"/);
});

test('expired', async () => {
  const token = await obtainAccessToken(h.auth, hospital, 'system/Observation.rs');
  h.clock.advance(320);
  try {
    await rejected(`Bearer ${token}`, /expired/);
  } finally {
    h.clock.advance(-320);
  }
});

test('not yet valid (issued in the future)', async () => {
  h.clock.advance(120);
  const out = await h.auth.handleTokenRequest(tokenForm(await mintClientAssertion(hospital, h.auth.tokenUrl(), { now: h.clock.now() }), 'system/Observation.rs'));
  h.clock.advance(-120);
  expect(out.status).toBe(200);
  await rejected(`Bearer ${out.body.access_token as string}`, /nbf|iat/);
});

test('forged: payload changed, signature kept', async () => {
  const token = await obtainAccessToken(h.auth, hospital, 'system/Observation.rs');
  const [hd, body, sig] = token.split('.');
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
  await rejected(`Bearer ${hd}.${b64url({ ...claims, scope: 'system/*.cruds', role: 'registry-admin' })}.${sig}`, /rejected/);
});

test('token from another server (same issuer name, other keys): unknown kid', async () => {
  const c = await createTestClient(other.handle.db, { role: 'hospital' });
  const token = await obtainAccessToken(other.auth, c, 'system/Observation.rs');
  await rejected(`Bearer ${token}`, /unknown signing key/);
});

test('token from another issuer', async () => {
  const foreign = await startSecurityHarness({ AUTH_ISSUER: 'https://evil.test' });
  try {
    const c = await createTestClient(foreign.handle.db, { role: 'hospital' });
    await rejected(`Bearer ${await obtainAccessToken(foreign.auth, c, 'system/Observation.rs')}`, /unknown token issuer/);
  } finally {
    await foreign.close();
  }
});

test('alg none and HS256-with-public-key', async () => {
  const token = await obtainAccessToken(h.auth, hospital, 'system/Observation.rs');
  const [hd, body] = token.split('.');
  const { kid } = JSON.parse(Buffer.from(hd, 'base64url').toString());
  await rejected(`Bearer ${b64url({ alg: 'none', typ: 'at+jwt' })}.${body}.`);
  const jwks = await h.auth.jwks();
  const hsHeader = b64url({ alg: 'HS256', kid, typ: 'at+jwt' });
  for (const secret of [JSON.stringify(jwks.keys[0]), JSON.stringify(jwks)]) {
    const sig = createHmac('sha256', secret).update(`${hsHeader}.${body}`).digest('base64url');
    await rejected(`Bearer ${hsHeader}.${body}.${sig}`);
  }
});

test('unknown kid', async () => {
  const token = await obtainAccessToken(h.auth, hospital, 'system/Observation.rs');
  const [hd, body, sig] = token.split('.');
  const header = JSON.parse(Buffer.from(hd, 'base64url').toString());
  await rejected(`Bearer ${b64url({ ...header, kid: 'nope' })}.${body}.${sig}`, /unknown signing key/);
});

test('a client assertion is not an access token', async () => {
  const assertion = await mintClientAssertion(hospital, h.auth.tokenUrl(), { claims: { iss: ISSUER } });
  await rejected(`Bearer ${assertion}`);
});

describe('patient tokens from the identity provider', () => {
  const mint = (nid: string, o: Parameters<typeof mintPatientToken>[2] = {}) => mintPatientToken({ privateJwk: idp.privateJwk, issuer: IDP_ISSUER, audience: ISSUER }, nid, o);

  test('accepted as role patient, scopes narrowed to what a patient may hold, national id resolved', async () => {
    const p = await h.auth.authenticate(`Bearer ${await mint('7501011234', { scope: 'patient/*.cruds system/*.cruds openid' })}`);
    expect(p).toMatchObject({ kind: 'patient', role: 'patient', scopes: ['patient/*.rs', 'patient/Task.u'], nationalId: '7501011234', patientId: 'pat-1' });
  });
  test('no scope claim: patient/*.rs', async () => {
    const p = await h.auth.authenticate(`Bearer ${await mint('7501011234')}`);
    expect(p.scopes).toEqual(['patient/*.rs']);
  });
  test('unknown national id: principal without patientId', async () => {
    const p = await h.auth.authenticate(`Bearer ${await mint('9999999999')}`);
    expect(p.patientId).toBeUndefined();
  });
  test('wrong audience, missing national id, expired, foreign key: 401', async () => {
    await rejected(`Bearer ${await mintPatientToken({ privateJwk: idp.privateJwk, issuer: IDP_ISSUER, audience: 'https://other' }, '7501011234')}`);
    await rejected(`Bearer ${await mint('7501011234', { claim: 'other_claim' })}`);
    await rejected(`Bearer ${await mint('7501011234', { exp: -60 })}`, /expired/);
    const stranger = await buildKeyPair('RS256');
    await rejected(`Bearer ${await mintPatientToken({ privateJwk: { ...stranger.privateJwk, kid: idp.privateJwk.kid }, issuer: IDP_ISSUER, audience: ISSUER }, '7501011234')}`);
  });
  test('HS256 with the IdP public key', async () => {
    const now = Math.floor(Date.now() / 1000);
    const hd = b64url({ alg: 'HS256', kid: idp.publicJwk.kid });
    const body = b64url({ iss: IDP_ISSUER, aud: ISSUER, sub: 's', iat: now, exp: now + 60, national_id: '7501011234' });
    const sig = createHmac('sha256', JSON.stringify(idp.publicJwk)).update(`${hd}.${body}`).digest('base64url');
    await rejected(`Bearer ${hd}.${body}.${sig}`);
  });
  test('patient tokens are off when no IdP is configured', async () => {
    const noIdp = createAuthService({ db: h.handle.db, config: h.config, clock: h.clock, patientIdp: null });
    const err = (await noIdp.authenticate(`Bearer ${await mint('7501011234')}`).catch((e: unknown) => e)) as FhirError;
    expect(err.status).toBe(401);
  });
});
