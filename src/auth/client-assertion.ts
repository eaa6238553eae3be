import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { ClientRecord } from '../repository/clients';
import { OAuthError } from './oauth-error';

/**
 * Client authentication by `private_key_jwt` (RFC 7523 §2.2, SMART Backend
 * Services: https://hl7.org/fhir/smart-app-launch/backend-services.html#authenticate-to-the-token-endpoint).
 */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGORITHMS = ['RS384', 'ES384'];
/** SMART: `exp` no more than five minutes in the future. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
export const CLOCK_TOLERANCE_SECONDS = 30;

export interface AssertionDeps {
  findClient(id: string): Promise<ClientRecord | undefined>;
  /** Records the `jti`; false when this client already used it. */
  claimJti(clientId: string, jti: string, expiresAt: Date): Promise<boolean>;
  keySetFor(client: ClientRecord): JWTVerifyGetKey;
  now(): Date;
}

const failed = (why: string) => new OAuthError('invalid_client', `Client authentication failed: ${why}`);

export async function verifyClientAssertion(assertion: string, tokenUrl: string, deps: AssertionDeps): Promise<ClientRecord> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverifiedIss: unknown;
  try {
    header = decodeProtectedHeader(assertion);
    unverifiedIss = decodeJwt(assertion).iss;
  } catch {
    throw failed('client_assertion is not a JWT');
  }
  // Pinned before any key is looked up: never `none`, never a MAC.
  if (typeof header.alg !== 'string' || !ASSERTION_ALGORITHMS.includes(header.alg)) {
    throw failed(`alg must be one of ${ASSERTION_ALGORITHMS.join(', ')}`);
  }
  if (typeof unverifiedIss !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(unverifiedIss)) throw failed('iss must be the client id');
  const client = await deps.findClient(unverifiedIss);
  // One message for unknown and inactive clients: no enumeration of client ids.
  if (!client || !client.active) throw failed('unknown or inactive client');

  const now = deps.now();
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, deps.keySetFor(client), {
      algorithms: ASSERTION_ALGORITHMS,
      issuer: client.id,
      subject: client.id,
      audience: tokenUrl,
      currentDate: now,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
    }));
  } catch (err) {
    throw failed(describeJoseError(err));
  }
  const exp = payload.exp as number;
  if (exp > now.getTime() / 1000 + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
    throw failed(`exp must be at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds in the future`);
  }
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 255) throw failed('jti must be a string of 1 to 255 characters');
  // After the signature check, so nobody can burn another client's jti values.
  const fresh = await deps.claimJti(client.id, jti, new Date((exp + CLOCK_TOLERANCE_SECONDS) * 1000));
  if (!fresh) throw failed('jti was already used (replayed assertion)');
  return client;
}

/** A short reason from a jose error, without echoing token content. */
export function describeJoseError(err: unknown): string {
  const code = (err as { code?: string })?.code;
  const claim = (err as { claim?: string })?.claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'token expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return claim === 'nbf' || claim === 'iat' ? 'token not yet valid' : `claim ${claim ?? ''} is invalid`.replace('  ', ' ');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'signature verification failed';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algorithm not allowed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'no registered key matches the token header (kid/alg)';
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'several registered keys match; send a kid';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JOSE_GENERIC':
      return 'the client key set could not be fetched';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'malformed token';
    default:
      return 'token rejected';
  }
}

/**
 * Key sets per client: inline JWKS as given; `jwks_uri` fetched with jose's
 * cache (10 min) and cooldown, one fetcher per URL shared by all clients.
 */
export function createClientKeySets(opts: { allowInsecureJwksUri: boolean }): (client: ClientRecord) => JWTVerifyGetKey {
  const remote = new Map<string, JWTVerifyGetKey>();
  const inline = new Map<string, { updatedAt: number; getKey: JWTVerifyGetKey }>();
  return (client) => {
    if (client.jwks) {
      const cached = inline.get(client.id);
      if (cached && cached.updatedAt === client.updatedAt.getTime()) return cached.getKey;
      const getKey = createLocalJWKSet(client.jwks as unknown as Parameters<typeof createLocalJWKSet>[0]);
      inline.set(client.id, { updatedAt: client.updatedAt.getTime(), getKey });
      return getKey;
    }
    const uri = client.jwksUri;
    if (!uri) throw failed('the client has no keys');
    const url = new URL(uri);
    if (url.protocol !== 'https:' && !opts.allowInsecureJwksUri) throw failed('jwks_uri must use https');
    let getKey = remote.get(uri);
    if (!getKey) {
      getKey = createRemoteJWKSet(url, { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5_000 });
      remote.set(uri, getKey);
    }
    return getKey;
  };
}
