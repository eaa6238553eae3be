import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import type { Config } from '../config/config';
import type { ClientInput } from '../repository/clients';
import { findClient, upsertClient } from '../repository/clients';
import type { Db } from '../repository/db';
import type { Clock } from '../shared/clock';
import { CLIENT_ADMIN_SCOPE } from './scopes';
import { issuerFromConfig } from './issuer';
import { ROLES, type Role } from './roles';

/**
 * Development credentials, for a newcomer's `npm run token`: a client key and a
 * patient-IdP key stored as files in DATA_DIR (mode 0600), so that a second
 * process can use them without opening the database (PGlite admits one
 * process). Refused when NODE_ENV=production or DEVELOPMENT_CREDENTIALS=off.
 */
export const DEV_PATIENT_IDP_ISSUER = 'urn:opennhis:development-patient-idp';
export const DEV_DEFAULT_ORGANIZATION = 'DEV001';

/** What each role is allowed by default; also what `npm run token` asks for. */
export const ROLE_DEFAULT_SCOPES: Record<Exclude<Role, 'patient'>, string[]> = {
  hospital: ['system/*.cruds'],
  prescriber: ['system/*.cruds'],
  laboratory: ['system/*.cruds'],
  pharmacy: [
    'system/MedicationRequest.rs',
    // Task.u: the prescription workflow operations ($accept, $dispense, ...); plain Task updates stay denied by role.
    'system/Task.rus',
    'system/Patient.rs',
    'system/Medication.rs',
    'system/Practitioner.rs',
    'system/PractitionerRole.rs',
    'system/Organization.rs',
    'system/MedicationDispense.c',
  ],
  'registry-admin': ['Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Location', 'HealthcareService'].map((t) => `system/${t}.cruds`),
  analyst: ['system/*.s'],
  // MedicationRequest.r serves $timeline only (dispute settling); the auditor role denies plain clinical reads.
  auditor: ['system/AuditEvent.rs', 'system/MedicationRequest.r'],
  operator: [CLIENT_ADMIN_SCOPE],
};

export interface DevelopmentKeys {
  dir: string;
  clientPrivateJwk: JWK;
  clientPublicJwks: { keys: JWK[] };
  idpPrivateJwk: JWK;
  idpPublicJwksFile: string;
}

export function developmentDir(config: Config): string {
  return path.join(config.dataDir, 'dev-credentials');
}

function assertDevelopment(config: Config): void {
  if (!config.developmentCredentials) {
    throw new Error('Development credentials are disabled (NODE_ENV=production or DEVELOPMENT_CREDENTIALS=off)');
  }
}

async function loadOrCreateKey(file: string): Promise<JWK> {
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as JWK;
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey), 'sha256');
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES384', use: 'sig' };
  // 'wx' fails if another process wrote it first; then use theirs.
  try {
    await writeFile(file, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return JSON.parse(await readFile(file, 'utf8')) as JWK;
    throw err;
  }
  return jwk;
}

export function publicJwkOf(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return pub;
}

/** Creates the development key files on first use; returns them. */
export async function ensureDevelopmentKeys(config: Config): Promise<DevelopmentKeys> {
  assertDevelopment(config);
  const dir = developmentDir(config);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const clientPrivateJwk = await loadOrCreateKey(path.join(dir, 'client-private.jwk.json'));
  const idpPrivateJwk = await loadOrCreateKey(path.join(dir, 'patient-idp-private.jwk.json'));
  const idpPublicJwksFile = path.join(dir, 'patient-idp.jwks.json');
  await writeFile(idpPublicJwksFile, `${JSON.stringify({ keys: [publicJwkOf(idpPrivateJwk)] }, null, 2)}\n`);
  return { dir, clientPrivateJwk, clientPublicJwks: { keys: [publicJwkOf(clientPrivateJwk)] }, idpPrivateJwk, idpPublicJwksFile };
}

/** The development clients' ids (`dev-<role>[-<organization>]`); their tokens live DEVELOPMENT_TOKEN_TTL_SECONDS. */
export function isDevelopmentClientId(id: string): boolean {
  return id.startsWith('dev-');
}

export function developmentClientId(role: Exclude<Role, 'patient'>, organization = DEV_DEFAULT_ORGANIZATION): string {
  return organization === DEV_DEFAULT_ORGANIZATION ? `dev-${role}` : `dev-${role}-${organization.toLowerCase()}`;
}

export function developmentClientInput(keys: DevelopmentKeys, role: Exclude<Role, 'patient'>, organization = DEV_DEFAULT_ORGANIZATION): ClientInput {
  return {
    id: developmentClientId(role, organization),
    name: `Development ${role} (${organization})`,
    role,
    organization,
    scopes: ROLE_DEFAULT_SCOPES[role],
    jwks: keys.clientPublicJwks as unknown as ClientInput['jwks'],
    active: true,
  };
}

/**
 * Registers one development client per role (organization DEV001) with the
 * development public key. Call at server start when `config.developmentCredentials`.
 */
export async function ensureDevelopmentClients(db: Db, config: Config, clock: Clock): Promise<DevelopmentKeys> {
  const keys = await ensureDevelopmentKeys(config);
  for (const role of ROLES) {
    if (role === 'patient') continue;
    const input = developmentClientInput(keys, role);
    const existing = await findClient(db, input.id);
    if (!existing || JSON.stringify(existing.jwks) !== JSON.stringify(input.jwks)) await upsertClient(db, input, clock.now());
  }
  return keys;
}

/** A client assertion (RFC 7523) signed with a private JWK. */
export async function signClientAssertion(privateJwk: JWK, clientId: string, tokenUrl: string, now: Date, lifetimeSeconds = 60): Promise<string> {
  const key = await importJWK(privateJwk, privateJwk.alg ?? 'ES384');
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: privateJwk.alg ?? 'ES384', kid: privateJwk.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetimeSeconds)
    .setJti(randomUUID())
    .sign(key);
}

/** A patient token as the development IdP would issue it. */
export async function signDevelopmentPatientToken(config: Config, keys: DevelopmentKeys, nationalId: string, now: Date): Promise<string> {
  const key = await importJWK(keys.idpPrivateJwk, 'ES384');
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ [config.patientIdpNationalIdClaim]: nationalId, scope: 'patient/*.rs', azp: 'dev-patient-app' })
    .setProtectedHeader({ alg: 'ES384', kid: keys.idpPrivateJwk.kid, typ: 'JWT' })
    .setIssuer(DEV_PATIENT_IDP_ISSUER)
    .setSubject(`dev-patient-${createHash('sha256').update(nationalId).digest('hex').slice(0, 16)}`)
    .setAudience(config.patientIdpAudience ?? issuerFromConfig(config))
    .setIssuedAt(iat)
    .setExpirationTime(iat + config.developmentTokenTtlSeconds)
    .setJti(randomUUID())
    .sign(key);
}

/**
 * True when a server answers on this machine's configured address. The CLIs
 * use it to avoid opening the embedded PGlite directory while the server has it
 * open (PGlite admits a single process).
 */
export async function isLocalServerRunning(localUrl: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(`${localUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}
