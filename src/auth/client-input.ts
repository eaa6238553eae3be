import { FhirError } from '../errors/fhir-error';
import type { ClientInput } from '../repository/clients';
import { isRole, ROLES } from './roles';
import { areValidScopes, CLIENT_ADMIN_SCOPE, parseScopeString } from './scopes';

/** Validates a client registration (admin API and CLI); every problem reported at once, with its path. */
const ID = /^[A-Za-z0-9._-]{1,64}$/;
const ORGANIZATION = /^[A-Za-z0-9-]{1,32}$/;
const KEY_ALGS = new Set(['RS384', 'ES384']);

export function parseClientInput(body: unknown, idFromPath?: string, opts: { allowInsecureJwksUri?: boolean } = {}): ClientInput {
  const problems: { path: string; message: string }[] = [];
  const o = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  if (o !== body) problems.push({ path: '$', message: 'body must be a JSON object' });
  const id = idFromPath ?? o.id;
  if (typeof id !== 'string' || !ID.test(id)) problems.push({ path: 'id', message: 'id must be 1-64 of A-Z a-z 0-9 . _ -' });
  if (idFromPath !== undefined && o.id !== undefined && o.id !== idFromPath) problems.push({ path: 'id', message: 'id in the body differs from the path' });
  const role = o.role;
  if (!isRole(role)) problems.push({ path: 'role', message: `role must be one of ${ROLES.join(', ')}` });
  else if (role === 'patient') problems.push({ path: 'role', message: 'patient tokens come from the patient identity provider; no client has role patient' });
  const organization = o.organization;
  if (organization !== undefined && (typeof organization !== 'string' || !ORGANIZATION.test(organization))) {
    problems.push({ path: 'organization', message: 'organization must be a national facility code (1-32 of A-Z a-z 0-9 -)' });
  }
  const name = o.name ?? id;
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) problems.push({ path: 'name', message: 'name must be a string of 1-200 characters' });
  const scopes = Array.isArray(o.scopes) ? o.scopes : typeof o.scopes === 'string' ? parseScopeString(o.scopes) : undefined;
  if (!scopes || scopes.length === 0 || !scopes.every((s) => typeof s === 'string') || !areValidScopes(scopes as string[], ['system'])) {
    problems.push({ path: 'scopes', message: 'scopes must be SMART system/ scopes, e.g. "system/MedicationRequest.rs"' });
  } else if (isRole(role) && (role === 'operator') !== (scopes as string[]).includes(CLIENT_ADMIN_SCOPE)) {
    problems.push({ path: 'scopes', message: `the ${CLIENT_ADMIN_SCOPE} scope belongs to operator clients, and operator clients hold it alone` });
  } else if (role === 'operator' && scopes.length !== 1) {
    problems.push({ path: 'scopes', message: `an operator client holds the ${CLIENT_ADMIN_SCOPE} scope alone` });
  }
  const jwks = o.jwks;
  const jwksUri = o.jwksUri ?? o.jwks_uri;
  if ((jwks === undefined) === (jwksUri === undefined)) problems.push({ path: 'jwks', message: 'give exactly one of jwks and jwksUri' });
  if (jwks !== undefined) problems.push(...jwksProblems(jwks));
  if (jwksUri !== undefined) {
    let ok = typeof jwksUri === 'string';
    if (ok) {
      try {
        const url = new URL(jwksUri as string);
        ok = url.protocol === 'https:' || (!!opts.allowInsecureJwksUri && url.protocol === 'http:');
      } catch {
        ok = false;
      }
    }
    if (!ok) problems.push({ path: 'jwksUri', message: 'jwksUri must be an https URL' });
  }
  const active = o.active ?? true;
  if (typeof active !== 'boolean') problems.push({ path: 'active', message: 'active must be a boolean' });
  if (problems.length) {
    const err = FhirError.badRequest(problems.map((p) => `${p.path}: ${p.message}`).join('; '), { code: 'NHIS-1100', expression: problems.map((p) => p.path) });
    throw err;
  }
  return {
    id: id as string,
    name: name as string,
    role: role as string,
    organization: organization as string | undefined,
    scopes: scopes as string[],
    jwks: jwks as ClientInput['jwks'],
    jwksUri: jwksUri as string | undefined,
    active: active as boolean,
  };
}

function jwksProblems(jwks: unknown): { path: string; message: string }[] {
  const keys = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 10) return [{ path: 'jwks.keys', message: 'jwks must be {"keys": [...]} with 1-10 keys' }];
  const out: { path: string; message: string }[] = [];
  keys.forEach((k: Record<string, unknown>, i) => {
    const p = `jwks.keys[${i}]`;
    if (typeof k !== 'object' || k === null) return out.push({ path: p, message: 'must be a JWK object' });
    if (['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((f) => f in k)) out.push({ path: p, message: 'must be a public key (private or symmetric material found)' });
    if (k.kty === 'RSA') {
      const bits = typeof k.n === 'string' ? Buffer.from(k.n, 'base64url').length * 8 : 0;
      if (bits < 2048) out.push({ path: `${p}.n`, message: 'RSA keys must have at least 2048 bits' });
    } else if (k.kty === 'EC') {
      if (k.crv !== 'P-384') out.push({ path: `${p}.crv`, message: 'EC keys must use P-384 (ES384)' });
    } else {
      out.push({ path: `${p}.kty`, message: 'kty must be RSA or EC' });
    }
    if (k.alg !== undefined && !KEY_ALGS.has(k.alg as string)) out.push({ path: `${p}.alg`, message: 'alg must be RS384 or ES384' });
    return undefined;
  });
  return out;
}
