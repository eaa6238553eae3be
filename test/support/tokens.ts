import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import type { AuthService } from '../../src/auth/auth-service';
import { CLIENT_ASSERTION_TYPE } from '../../src/auth/client-assertion';
import { ROLE_DEFAULT_SCOPES } from '../../src/auth/development-credentials';
import type { Role } from '../../src/auth/roles';
import { insertClient, type ClientRecord, type ClientInput } from '../../src/repository/clients';
import type { Db } from '../../src/repository/db';

/** Test helpers for everyone: register a client with a fresh key pair, mint assertions, get access tokens. */
export interface TestClient {
  client: ClientInput;
  privateJwk: JWK;
  publicJwk: JWK;
}

export interface TestClientOptions {
  id?: string;
  role: Exclude<Role, 'patient'>;
  organization?: string;
  /** Defaults to the role's default scopes. */
  scopes?: string[];
  alg?: 'ES384' | 'RS384';
  active?: boolean;
}

export async function buildKeyPair(alg: 'ES384' | 'RS384' | 'RS256' | 'ES256' = 'ES384'): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg },
  };
}

/** Registers a client with a new key pair in the given database. */
export async function createTestClient(db: Db, opts: TestClientOptions): Promise<TestClient> {
  const { privateJwk, publicJwk } = await buildKeyPair(opts.alg ?? 'ES384');
  const client: ClientInput = {
    id: opts.id ?? `test-${opts.role}-${randomUUID().slice(0, 8)}`,
    name: `Test ${opts.role}`,
    role: opts.role,
    organization: opts.organization ?? 'TEST001',
    scopes: opts.scopes ?? ROLE_DEFAULT_SCOPES[opts.role],
    jwks: { keys: [publicJwk as unknown as Record<string, unknown>] },
    active: opts.active ?? true,
  };
  if (!(await insertClient(db, client, new Date()))) throw new Error(`client ${client.id} exists`);
  return { client, privateJwk, publicJwk };
}

export interface AssertionOverrides {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  /** Seconds from now. */
  exp?: number;
  iat?: number;
  nbf?: number;
  now?: Date;
  /** Sign with another key than the client's. */
  signWith?: JWK;
}

/** A client assertion (RFC 7523) for `tokenUrl`, valid for 60 s unless overridden. */
export async function mintClientAssertion(tc: Pick<TestClient, 'client' | 'privateJwk'>, tokenUrl: string, o: AssertionOverrides = {}): Promise<string> {
  const jwk = o.signWith ?? tc.privateJwk;
  const alg = (jwk.alg as string) ?? 'ES384';
  const now = Math.floor((o.now ?? new Date()).getTime() / 1000);
  const claims: Record<string, unknown> = {
    iss: tc.client.id,
    sub: tc.client.id,
    aud: tokenUrl,
    jti: randomUUID(),
    iat: now + (o.iat ?? 0),
    exp: now + (o.exp ?? 60),
    ...(o.nbf !== undefined ? { nbf: now + o.nbf } : {}),
    ...o.claims,
  };
  return new SignJWT(claims).setProtectedHeader({ alg, kid: jwk.kid, typ: 'JWT', ...o.header } as { alg: string }).sign(await importJWK(jwk, alg));
}

export function tokenForm(assertion: string, scope: string): URLSearchParams {
  return new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion, scope });
}

/** Runs the token endpoint in-process and returns the access token (throws on an OAuth error). */
export async function obtainAccessToken(auth: AuthService, tc: TestClient, scope = tc.client.scopes.join(' ')): Promise<string> {
  const out = await auth.handleTokenRequest(tokenForm(await mintClientAssertion(tc, auth.tokenUrl()), scope));
  if (out.status !== 200) throw new Error(`token request failed: ${JSON.stringify(out.body)}`);
  return out.body.access_token as string;
}

/** The same over HTTP against a running server (`baseUrl` is where it listens; `tokenUrl` from its smart-configuration). */
export async function obtainAccessTokenHttp(baseUrl: string, tc: TestClient, scope = tc.client.scopes.join(' ')): Promise<string> {
  const config = (await (await fetch(`${baseUrl}/.well-known/smart-configuration`)).json()) as { token_endpoint: string };
  const res = await fetch(`${baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenForm(await mintClientAssertion(tc, config.token_endpoint), scope).toString(),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`token request failed: ${JSON.stringify(body)}`);
  return body.access_token as string;
}

/** A patient token from a test identity provider key (see createAuthService's `patientIdp` option). */
export async function mintPatientToken(
  idp: { privateJwk: JWK; issuer: string; audience: string },
  nationalId: string,
  o: { claim?: string; scope?: string; exp?: number; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const alg = (idp.privateJwk.alg as string) ?? 'ES384';
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ [o.claim ?? 'national_id']: nationalId, ...(o.scope ? { scope: o.scope } : {}), ...o.claims })
    .setProtectedHeader({ alg, kid: idp.privateJwk.kid })
    .setIssuer(idp.issuer)
    .setSubject(`sub-${nationalId}`)
    .setAudience(idp.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (o.exp ?? 300))
    .setJti(randomUUID())
    .sign(await importJWK(idp.privateJwk, alg));
}

export type { ClientRecord };

export const CITIZEN_IDP = { issuer: 'urn:test:citizen-idp', audience: 'urn:test:opennhis' };

/**
 * A citizen identity provider for a test server: its signing key, the server environment that
 * trusts it (a JWKS file in a temporary folder), a minting function, and `remove` for afterAll.
 */
export async function createCitizenIdp(): Promise<{
  key: { privateJwk: JWK; publicJwk: JWK };
  env: Record<string, string>;
  mint: (nationalId: string, o?: Parameters<typeof mintPatientToken>[2]) => Promise<string>;
  remove: () => void;
}> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nhis-idp-'));
  const key = await buildKeyPair('ES384');
  const jwksFile = path.join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));
  return {
    key,
    env: { PATIENT_IDP_ISSUER: CITIZEN_IDP.issuer, PATIENT_IDP_JWKS_FILE: jwksFile, PATIENT_IDP_AUDIENCE: CITIZEN_IDP.audience },
    mint: (nationalId, o) => mintPatientToken({ privateJwk: key.privateJwk, ...CITIZEN_IDP }, nationalId, o),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
