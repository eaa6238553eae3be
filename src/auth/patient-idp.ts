import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Principal } from './principal';
import { grantScopes, parseScopeString } from './scopes';
import { TokenRejected } from './access-token';

/**
 * Citizens authenticate at an external identity provider (national eID);
 * its tokens carry the patient's national id and are accepted with
 * `patient/*.rs`-type scopes only.
 */
export const PATIENT_ALLOWED_SCOPES = ['patient/*.rs', 'patient/Task.u'];
/**
 * Granted when the token asks for nothing. `patient/Task.u` only when asked for: it lets a
 * patient app cancel the patient's own prescription (`Task/$abort`), the one write the role
 * rules allow a patient (auth/decide.ts).
 */
export const PATIENT_DEFAULT_SCOPES = ['patient/*.rs'];
/** Asymmetric algorithms only: never `none`, never a MAC. */
export const PATIENT_IDP_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const NATIONAL_ID = /^[A-Za-z0-9-]{4,32}$/;

export interface PatientIdpOptions {
  issuer: string;
  audience: string;
  nationalIdClaim: string;
  jwksUrl?: string;
  jwksFile?: string;
  jwks?: JSONWebKeySet;
  /** Longest token lifetime accepted from the IdP. */
  maxLifetimeSeconds?: number;
}

export interface PatientIdpVerifier {
  issuer: string;
  verify(token: string, now: Date): Promise<Principal>;
}

/** A JWKS file, re-read at most once a minute (it is rotated by replacing the file). */
function fileKeySet(file: string): JWTVerifyGetKey {
  let loaded: { at: number; getKey: JWTVerifyGetKey } | undefined;
  return async (header, token) => {
    if (!loaded || Date.now() - loaded.at > 60_000) {
      const jwks = JSON.parse(await readFile(file, 'utf8')) as JSONWebKeySet;
      loaded = { at: Date.now(), getKey: createLocalJWKSet(jwks) };
    }
    return loaded.getKey(header, token);
  };
}

export function createPatientIdpVerifier(opts: PatientIdpOptions): PatientIdpVerifier {
  const getKey: JWTVerifyGetKey = opts.jwks
    ? createLocalJWKSet(opts.jwks)
    : opts.jwksUrl
      ? createRemoteJWKSet(new URL(opts.jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5_000 })
      : opts.jwksFile
        ? fileKeySet(opts.jwksFile)
        : (() => {
            throw new Error('patient IdP needs jwks, jwksUrl or jwksFile');
          })();
  const maxLifetime = opts.maxLifetimeSeconds ?? 3600;
  return {
    issuer: opts.issuer,
    async verify(token, now) {
      let payload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          algorithms: PATIENT_IDP_ALGORITHMS,
          issuer: opts.issuer,
          audience: opts.audience,
          currentDate: now,
          clockTolerance: 5,
          requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', opts.nationalIdClaim],
        }));
      } catch (err) {
        const code = (err as { code?: string }).code;
        throw new TokenRejected(code === 'ERR_JWT_EXPIRED' ? 'token expired' : code === 'ERR_JWKS_NO_MATCHING_KEY' ? 'unknown signing key' : 'token rejected');
      }
      const exp = payload.exp as number;
      if (exp - (payload.iat as number) > maxLifetime) throw new TokenRejected('token lifetime too long');
      const nationalId = payload[opts.nationalIdClaim];
      if (typeof nationalId !== 'string' || !NATIONAL_ID.test(nationalId)) throw new TokenRejected('no valid national id claim');
      const raw = payload.scope ?? payload.scp;
      const requested = Array.isArray(raw) ? raw.filter((s): s is string => typeof s === 'string') : typeof raw === 'string' ? parseScopeString(raw) : undefined;
      const scopes = requested ? grantScopes(requested, PATIENT_ALLOWED_SCOPES, ['patient']) : [...PATIENT_DEFAULT_SCOPES];
      const clientId = typeof payload.azp === 'string' ? payload.azp : typeof payload.client_id === 'string' ? payload.client_id : opts.issuer;
      return {
        kind: 'patient',
        clientId,
        role: 'patient',
        scopes,
        nationalId,
        subject: payload.sub as string,
        tokenId: payload.jti,
        expiresAt: new Date(exp * 1000),
      };
    },
  };
}
