import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { isRole, type Role } from './roles';
import type { Principal } from './principal';
import type { SigningKeyStore } from './signing-keys';
import { MAX_TOKEN_TTL_SECONDS } from './signing-keys';
import { parseScopeString } from './scopes';

/** Access tokens are JWTs (RFC 9068 profile: `typ: at+jwt`) signed by this server. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
export const ACCESS_TOKEN_ALGORITHMS = ['ES384', 'RS384'];
const CLOCK_TOLERANCE_SECONDS = 5;

export interface AccessTokenInput {
  issuer: string;
  clientId: string;
  role: Role;
  organization?: string;
  scopes: string[];
  ttlSeconds: number;
  /** Cap on `ttlSeconds` (default MAX_TOKEN_TTL_SECONDS). */
  maxTtlSeconds?: number;
  now: Date;
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

export async function signAccessToken(keys: SigningKeyStore, input: AccessTokenInput): Promise<IssuedToken> {
  const ttl = Math.min(input.ttlSeconds, input.maxTtlSeconds ?? MAX_TOKEN_TTL_SECONDS);
  const key = await keys.current();
  const iat = Math.floor(input.now.getTime() / 1000);
  const scope = input.scopes.join(' ');
  const claims: JWTPayload = { scope, client_id: input.clientId, role: input.role };
  if (input.organization) claims.organization = input.organization;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(input.issuer)
    .setSubject(input.clientId)
    .setAudience(input.issuer)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + ttl)
    .setJti(randomUUID())
    .sign(key.key);
  return { access_token: token, token_type: 'Bearer', expires_in: ttl, scope };
}

export class TokenRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'TokenRejected';
  }
}

/** Verifies a token this server issued; throws TokenRejected with a short reason. */
export async function verifyAccessToken(keys: SigningKeyStore, token: string, issuer: string, now: Date, maxLifetimeSeconds = MAX_TOKEN_TTL_SECONDS): Promise<Principal> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      async (header) => {
        const key = header.kid ? await keys.publicKey(header.kid, header.alg) : undefined;
        if (!key) throw new TokenRejected('unknown signing key');
        return key;
      },
      {
        algorithms: ACCESS_TOKEN_ALGORITHMS,
        typ: ACCESS_TOKEN_TYP,
        issuer,
        audience: issuer,
        currentDate: now,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'role'],
      },
    ));
  } catch (err) {
    if (err instanceof TokenRejected) throw err;
    const code = (err as { code?: string }).code;
    throw new TokenRejected(code === 'ERR_JWT_EXPIRED' ? 'token expired' : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? `claim ${(err as { claim?: string }).claim} is invalid` : 'token rejected');
  }
  const exp = payload.exp as number;
  if (exp - (payload.iat as number) > maxLifetimeSeconds) throw new TokenRejected('token lifetime too long');
  if (!isRole(payload.role) || payload.role === 'patient') throw new TokenRejected('token has no valid role');
  if (typeof payload.client_id !== 'string' || payload.client_id !== payload.sub) throw new TokenRejected('client_id and sub differ');
  const organization = typeof payload.organization === 'string' ? payload.organization : undefined;
  return {
    kind: 'client',
    clientId: payload.client_id,
    role: payload.role,
    organization,
    scopes: parseScopeString(typeof payload.scope === 'string' ? payload.scope : ''),
    subject: payload.client_id,
    tokenId: payload.jti,
    expiresAt: new Date(exp * 1000),
  };
}

/** `iss` and `alg` of a token before verification, to pick the verifier; undefined when not a JWS. */
export function peekIssuer(token: string): { iss?: string; alg?: string } | undefined {
  try {
    const header = decodeProtectedHeader(token);
    const body = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown };
    return { iss: typeof body.iss === 'string' ? body.iss : undefined, alg: header.alg };
  } catch {
    return undefined;
  }
}
