import path from 'node:path';
import type { JSONWebKeySet } from 'jose';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { FhirError } from '../errors/fhir-error';
import { findClient, type ClientRecord } from '../repository/clients';
import type { Db } from '../repository/db';
import { claimAssertionJti, purgeExpiredJtis } from '../repository/keys';
import type { Clock } from '../shared/clock';
import { signAccessToken, TokenRejected, verifyAccessToken, peekIssuer, type IssuedToken } from './access-token';
import { CLIENT_ASSERTION_TYPE, createClientKeySets, verifyClientAssertion, ASSERTION_ALGORITHMS } from './client-assertion';
import { DEV_PATIENT_IDP_ISSUER, developmentDir, isDevelopmentClientId } from './development-credentials';
import { issuerFromConfig, JWKS_PATH, TOKEN_PATH } from './issuer';
import { OAuthError } from './oauth-error';
import { createPatientIdpVerifier, type PatientIdpOptions, type PatientIdpVerifier } from './patient-idp';
import type { Principal } from './principal';
import { isRole } from './roles';
import { grantScopes, parseScopeString } from './scopes';
import { createSigningKeyStore, MAX_DEVELOPMENT_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS, type SigningKeyStore } from './signing-keys';

/**
 * SMART Backend Services token endpoint and bearer-token verification:
 * https://hl7.org/fhir/smart-app-launch/backend-services.html
 */
export interface AuthService {
  issuer(): string;
  tokenUrl(): string;
  /** POST /auth/token with the form parameters; RFC 6749 JSON result, never throws. */
  handleTokenRequest(form: URLSearchParams): Promise<TokenEndpointResult>;
  /** Issues an access token for a client already authenticated (CLI, tests). */
  issueToken(client: ClientRecord, requestedScopes: string[]): Promise<IssuedToken>;
  /** The `Authorization` header → Principal, or FhirError 401 with `WWW-Authenticate`. */
  authenticate(authorization: string | undefined): Promise<Principal>;
  jwks(): Promise<JSONWebKeySet>;
  smartConfiguration(): Record<string, unknown>;
  readonly keys: SigningKeyStore;
}

export interface TokenEndpointResult {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export interface AuthServiceDeps {
  db: Db;
  config: Config;
  clock: Clock;
  logger?: Logger;
  /** Defaults to `issuerFromConfig(config)`; a function when it is known only after listen. */
  issuer?: string | (() => string);
  /** Maps a patient's national id to the Patient resource id (identity domain); optional. */
  resolvePatient?: (nationalId: string) => Promise<string | undefined>;
  /** Overrides the patient IdP from config; `null` turns patient tokens off. */
  patientIdp?: PatientIdpOptions | null;
}

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_TOKEN_LENGTH = 16 * 1024;

/** The patient IdP from config, or the development IdP (key file in DATA_DIR) when development credentials are on. */
export function patientIdpFromConfig(config: Config): PatientIdpOptions | undefined {
  const audience = config.patientIdpAudience ?? issuerFromConfig(config);
  if (config.patientIdpIssuer) {
    return {
      issuer: config.patientIdpIssuer,
      audience,
      nationalIdClaim: config.patientIdpNationalIdClaim,
      jwksUrl: config.patientIdpJwksUrl,
      jwksFile: config.patientIdpJwksFile,
    };
  }
  if (config.developmentCredentials) {
    return {
      issuer: DEV_PATIENT_IDP_ISSUER,
      audience,
      nationalIdClaim: config.patientIdpNationalIdClaim,
      jwksFile: path.join(developmentDir(config), 'patient-idp.jwks.json'),
      // Development patient tokens live as long as the development clients' (signDevelopmentPatientToken).
      maxLifetimeSeconds: Math.max(3600, config.developmentTokenTtlSeconds),
    };
  }
  return undefined;
}

export function bearerChallenge(error?: { code: 'invalid_token' | 'invalid_request'; description: string }): string {
  const quote = (s: string) => s.replace(/["\\]/g, '');
  return error ? `Bearer realm="OpenNHIS", error="${error.code}", error_description="${quote(error.description)}"` : 'Bearer realm="OpenNHIS"';
}

function unauthorized(description: string, code: 'invalid_token' | 'invalid_request' | null = 'invalid_token'): FhirError {
  return FhirError.unauthorized(`Authentication failed: ${description}`, {
    headers: { 'WWW-Authenticate': bearerChallenge(code ? { code, description } : undefined) },
  });
}

/**
 * Names the issuer the server expects (a public URL), so a token minted for another address or port
 * explains itself; the token's own `iss` is echoed only when it is short printable text.
 */
function unknownIssuer(tokenIssuer: string, own: string, patientIdp: string | undefined): string {
  const shown = /^[\x21-\x7e]{1,200}$/.test(tokenIssuer) && !/["\\]/.test(tokenIssuer) ? ` ${tokenIssuer}` : '';
  return `unknown token issuer${shown}; this server's tokens are issued by ${own}${patientIdp ? `, citizens' tokens by ${patientIdp}` : ''}`;
}

export function createAuthService(deps: AuthServiceDeps): AuthService {
  const { db, config, clock } = deps;
  const issuer = (): string => (typeof deps.issuer === 'function' ? deps.issuer() : (deps.issuer ?? issuerFromConfig(config)));
  const tokenUrl = (): string => `${issuer()}${TOKEN_PATH}`;
  // Development clients (`npm run token`) get longer tokens, never in production (developmentCredentials is off there).
  const developmentTtl = config.developmentCredentials ? Math.min(config.developmentTokenTtlSeconds, MAX_DEVELOPMENT_TOKEN_TTL_SECONDS) : undefined;
  const maxTokenTtlSeconds = Math.max(MAX_TOKEN_TTL_SECONDS, developmentTtl ?? 0);
  const keys = createSigningKeyStore({
    db,
    clock,
    alg: config.tokenSigningAlg,
    rotationSeconds: config.signingKeyRotationSeconds,
    maxTokenTtlSeconds,
    keyEncryptionKey: config.keyEncryptionKey,
  });
  const keySetFor = createClientKeySets({ allowInsecureJwksUri: config.developmentCredentials });
  const idpOptions = deps.patientIdp === null ? undefined : (deps.patientIdp ?? patientIdpFromConfig(config));
  const patientIdp: PatientIdpVerifier | undefined = idpOptions ? createPatientIdpVerifier(idpOptions) : undefined;
  let lastPurge = 0;

  async function issueToken(client: ClientRecord, requestedScopes: string[]): Promise<IssuedToken> {
    if (!isRole(client.role) || client.role === 'patient') throw new OAuthError('unauthorized_client', 'This client may not use client_credentials');
    if (requestedScopes.length === 0) throw new OAuthError('invalid_scope', 'scope is required');
    const granted = grantScopes(requestedScopes, client.scopes, ['system']);
    if (granted.length === 0) throw new OAuthError('invalid_scope', 'None of the requested scopes is allowed for this client');
    return signAccessToken(keys, {
      issuer: issuer(),
      clientId: client.id,
      role: client.role,
      organization: client.organization,
      scopes: granted,
      ttlSeconds: developmentTtl !== undefined && isDevelopmentClientId(client.id) ? developmentTtl : config.tokenTtlSeconds,
      maxTtlSeconds: maxTokenTtlSeconds,
      now: clock.now(),
    });
  }

  async function handleTokenRequest(form: URLSearchParams): Promise<TokenEndpointResult> {
    try {
      for (const name of ['grant_type', 'client_assertion_type', 'client_assertion', 'scope']) {
        if (form.getAll(name).length > 1) throw new OAuthError('invalid_request', `${name} is repeated`);
      }
      if (form.get('grant_type') !== 'client_credentials') {
        throw new OAuthError(form.get('grant_type') ? 'unsupported_grant_type' : 'invalid_request', 'grant_type must be client_credentials');
      }
      if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
        throw new OAuthError('invalid_client', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
      }
      const assertion = form.get('client_assertion') ?? '';
      if (!assertion || assertion.length > MAX_TOKEN_LENGTH) throw new OAuthError('invalid_client', 'client_assertion is required');
      const now = clock.now();
      if (now.getTime() - lastPurge > 60_000) {
        lastPurge = now.getTime();
        await purgeExpiredJtis(db, now);
      }
      const client = await verifyClientAssertion(assertion, tokenUrl(), {
        findClient: (id) => findClient(db, id),
        claimJti: (clientId, jti, expiresAt) => claimAssertionJti(db, clientId, jti, expiresAt),
        keySetFor,
        now: () => now,
      });
      const issued = await issueToken(client, parseScopeString(form.get('scope') ?? ''));
      return { status: 200, headers: { ...NO_STORE }, body: { ...issued } };
    } catch (err) {
      if (err instanceof OAuthError) {
        deps.logger?.info({ oauthError: err.error }, 'token request refused');
        const headers: Record<string, string> = { ...NO_STORE };
        if (err.status === 401) headers['WWW-Authenticate'] = 'Bearer realm="OpenNHIS"';
        return { status: err.status, headers, body: { error: err.error, error_description: err.description } };
      }
      throw err;
    }
  }

  /**
   * Tokens this server issued and already verified, until they expire: a signature check costs
   * more CPU than the rest of a read. Verification depends only on the token, the published
   * keys and the time, and a key is dropped only after every token it signed has expired.
   */
  const verified = new Map<string, Principal>();
  const MAX_VERIFIED = 10_000;
  function remember(token: string, principal: Principal): void {
    if (verified.size >= MAX_VERIFIED) {
      const now = clock.now().getTime();
      for (const [t, p] of verified) if (p.expiresAt.getTime() <= now) verified.delete(t);
      if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value as string);
    }
    verified.set(token, principal);
  }

  async function authenticate(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw unauthorized('a bearer token is required', null);
    const m = /^Bearer +([^ ]+) *$/i.exec(authorization);
    if (!m) throw unauthorized('the Authorization header must be "Bearer <token>"', 'invalid_request');
    const token = m[1];
    if (token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) throw unauthorized('malformed token');
    const now = clock.now();
    // Only tokens of our own issuer that passed verification are in the cache.
    const cached = verified.get(token);
    if (cached && cached.expiresAt.getTime() > now.getTime()) return { ...cached, scopes: [...cached.scopes] };
    const peek = peekIssuer(token);
    if (!peek?.iss) throw unauthorized('malformed token');
    try {
      if (peek.iss === issuer()) {
        const principal = await verifyAccessToken(keys, token, issuer(), now, maxTokenTtlSeconds);
        remember(token, principal);
        return { ...principal, scopes: [...principal.scopes] };
      }
      if (patientIdp && peek.iss === patientIdp.issuer) {
        const principal = await patientIdp.verify(token, now);
        if (deps.resolvePatient && principal.nationalId) principal.patientId = await deps.resolvePatient(principal.nationalId);
        return principal;
      }
    } catch (err) {
      if (err instanceof TokenRejected) throw unauthorized(err.reason);
      throw err;
    }
    throw unauthorized(unknownIssuer(peek.iss, issuer(), patientIdp?.issuer));
  }

  return {
    issuer,
    tokenUrl,
    handleTokenRequest,
    issueToken,
    authenticate,
    jwks: () => keys.jwks(),
    keys,
    smartConfiguration: () => ({
      issuer: issuer(),
      jwks_uri: `${issuer()}${JWKS_PATH}`,
      token_endpoint: tokenUrl(),
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
      grant_types_supported: ['client_credentials'],
      scopes_supported: ['system/*.cruds', 'system/*.rs', 'patient/*.rs', 'patient/Task.u'],
      response_types_supported: ['token'],
      capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2', 'permission-patient'],
    }),
  };
}
