import os from 'node:os';
import path from 'node:path';

/** Typed configuration from the environment, validated once at start. */
export interface Config {
  port: number;
  host: string;
  /** Real PostgreSQL when set; otherwise the embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  logLevel: string;
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: number;
  /** HTTP worker processes (PostgreSQL only; PGlite is single-process). */
  workers: number;
  dbPoolSize: number;
  /** How long a request waits for a pooled connection before answering 503. */
  dbAcquireTimeoutMs: number;
  /**
   * Bounds on every statement of the server's connections (PostgreSQL statement_timeout and
   * lock_timeout, set when a connection opens; 0 = none): a statement past them fails and the
   * request answers 503 with Retry-After. DB_STATEMENT_TIMEOUT_MS, DB_LOCK_TIMEOUT_MS.
   */
  dbStatementTimeoutMs: number;
  dbLockTimeoutMs: number;
  /**
   * A read (GET/HEAD, POST _search) not answered after this long is answered 503 with
   * Retry-After. Writes are not cut short: their outcome is only known when they end, and the
   * statement and lock bounds end them. REQUEST_TIMEOUT_MS; 0 = none.
   */
  requestTimeoutMs: number;
  /** Public base URL used in Location headers and Bundle links. */
  baseUrl?: string;
  shutdownTimeoutMs: number;
  /** `iss` of access tokens and base of the token URL; defaults to `baseUrl`, then the listening URL. */
  authIssuer?: string;
  /** Lifetime of issued access tokens (at most 15 minutes). */
  tokenTtlSeconds: number;
  /**
   * Lifetime of the tokens of the development clients (`dev-*`, `npm run token`) and of development
   * patient tokens, so that a walk-through does not re-mint them every 5 minutes. Only with
   * `developmentCredentials` (never in production). DEVELOPMENT_TOKEN_TTL_SECONDS, default 8 hours.
   */
  developmentTokenTtlSeconds: number;
  tokenSigningAlg: 'ES384' | 'RS384';
  /** A new signing key is made when the newest one is older than this. */
  signingKeyRotationSeconds: number;
  /** External identity provider whose tokens carry a patient's national id. */
  patientIdpIssuer?: string;
  patientIdpJwksUrl?: string;
  patientIdpJwksFile?: string;
  /** Expected `aud` of patient IdP tokens; defaults to the auth issuer. */
  patientIdpAudience?: string;
  patientIdpNationalIdClaim: string;
  /** Browser origins allowed by CORS; empty means none. */
  corsOrigins: string[];
  /** Requests per client per minute; 0 turns the limit off. */
  rateLimitPerMinute: number;
  /**
   * Refused authentications per client address per minute before the address is refused (429)
   * without looking at its tokens, for the rest of the minute; 0 turns it off. AUTH_FAILURE_LIMIT_PER_MINUTE.
   */
  authFailureLimitPerMinute: number;
  /**
   * express `trust proxy` (TRUST_PROXY): which X-Forwarded-For hops name the client address
   * (audit trail, AUTH_FAILURE_LIMIT_PER_MINUTE). Unset: the connecting address. A hop count
   * (`1`) or a comma list of proxy addresses/subnets (`10.0.0.0/8,loopback`).
   */
  trustProxy?: number | string;
  /**
   * `durable` (default): a read is answered only once its AuditEvent is flushed to disk. `fast`: the
   * AuditEvent is committed before the answer but without waiting for the WAL flush; a database
   * crash may lose the read audits of its last fraction of a second. Audits of writes are always
   * in the write's own transaction. AUDIT_READ_COMMIT.
   */
  auditReadCommit: 'durable' | 'fast';
  /** NODE_ENV=production. */
  production: boolean;
  /**
   * Key-encryption key (32 bytes) sealing the server's private signing keys in the database
   * (AES-256-GCM, auth/key-sealing.ts). KEY_ENCRYPTION_KEY, as 64 hex digits or base64; required
   * to start a server when NODE_ENV=production.
   */
  keyEncryptionKey?: Buffer;
  /** Opaque operator credential for the client admin API (at least 32 characters). */
  adminBootstrapToken?: string;
  /** Development client and patient-IdP keys in `dataDir` (never when NODE_ENV=production). */
  developmentCredentials: boolean;
  /** Most entries of a Bundle processed synchronously; more need `Prefer: respond-async`. */
  bundleMaxEntries: number;
  /** How often the async Bundle worker looks for queued jobs. */
  jobPollIntervalMs: number;
  /** A running job whose worker has not renewed its lease for this long is reclaimed. */
  jobLeaseMs: number;
  /** How long an Idempotency-Key answer is kept. */
  idempotencyTtlHours: number;
  /** National identifier schemes checked and kept unique (names from shared/national-id). */
  nationalIdSchemes: string[];
  /**
   * Registry-aware writes (issue 5): `strict` (national production) — clinical references must resolve to
   * active registry entries that existed before the write; `open` — they may also point to entries created
   * in the same transaction, and Patients without a national id get a temporary one; `off` — no checks.
   * REGISTRY_MODE; default `strict` when NODE_ENV=production, otherwise `off`.
   */
  registryMode: 'strict' | 'open' | 'off';
  /**
   * National profiles (fhir-profiles/): `enforce` applies them to every resource of their types,
   * `claimed` only to resources that claim one in meta.profile, `off` never.
   * NATIONAL_PROFILES=on|claimed|off|auto; auto (default) is `enforce` when the registry mode in force is
   * `strict` (set, or the production default), else `claimed`.
   */
  nationalProfiles: 'enforce' | 'claimed' | 'off';
  /** ePrescription: validity when the MedicationRequest names none, and the longest allowed (days). */
  prescriptionValidityDays: number;
  prescriptionMaxValidityDays: number;
  /** ePrescription: how long a pharmacy's claim ($accept) holds before the Task is ready again. */
  prescriptionLeaseMinutes: number;
  /** ePrescription: how often the expiry job looks for ended validity periods and leases. */
  prescriptionExpiryIntervalMs: number;
  /** ePrescription: HMAC key (hex, >= 64 chars) for claim secrets; default: a random key kept in the database. */
  prescriptionSecretKey?: string;
  /**
   * Demo country at start-up (src/demo/): `auto` loads it into an empty embedded database (never on
   * PostgreSQL), `on` loads it into any database (idempotent), `off` never. SEED_DEMO; default `auto`,
   * which is `off` when NODE_ENV=production (where `on` is refused).
   */
  seedDemo: 'auto' | 'on' | 'off';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function parseBytes(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(raw.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor = unit === 'gb' ? 1024 ** 3 : unit === 'mb' ? 1024 ** 2 : unit === 'kb' ? 1024 : 1;
  return Math.floor(Number(m[1]) * factor);
}

/** 32 bytes as 64 hex digits or as base64 (standard or URL-safe); undefined when malformed. */
function parseKeyEncryptionKey(raw: string): Buffer | undefined {
  const text = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

function trustProxyOf(raw: string | undefined, problems: string[]): Config['trustProxy'] {
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const list = raw.split(',').map((x) => x.trim());
  if (list.some((x) => !/^(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(\/\d{1,3})?)$/.test(x))) {
    problems.push('TRUST_PROXY must be a hop count or a comma list of addresses, subnets, loopback, linklocal, uniquelocal');
  }
  return list.join(',');
}

/** `auto` follows the registry mode in force: the resolved one, so production's default `strict` enforces the profiles too. */
function nationalProfilesMode(raw: string | undefined, registryMode: Config['registryMode'], problems: string[]): Config['nationalProfiles'] {
  const value = (raw || 'auto').toLowerCase();
  if (value === 'on') return 'enforce';
  if (value === 'claimed' || value === 'off') return value;
  if (value !== 'auto') problems.push(`NATIONAL_PROFILES=${JSON.stringify(raw)} must be one of on, claimed, off, auto`);
  return registryMode === 'strict' ? 'enforce' : 'claimed';
}

function seedDemoOf(env: NodeJS.ProcessEnv, problems: string[]): Config['seedDemo'] {
  const raw = env.SEED_DEMO || 'auto';
  if (raw !== 'auto' && raw !== 'on' && raw !== 'off') {
    problems.push(`SEED_DEMO=${JSON.stringify(raw)} must be one of auto, on, off`);
    return 'off';
  }
  if (env.NODE_ENV !== 'production') return raw;
  if (raw === 'on') problems.push('SEED_DEMO=on loads invented patients and is refused when NODE_ENV=production');
  return 'off';
}

function registryModeOf(env: NodeJS.ProcessEnv, problems: string[]): Config['registryMode'] {
  const raw = env.REGISTRY_MODE || (env.NODE_ENV === 'production' ? 'strict' : 'off');
  if (raw === 'strict' || raw === 'open' || raw === 'off') return raw;
  problems.push(`REGISTRY_MODE=${JSON.stringify(raw)} must be one of strict, open, off`);
  return 'off';
}

/**
 * What a server (not a CLI) needs beyond a valid configuration: in production, a key to seal
 * its private signing keys with. Called by main.ts before forking workers and by startServer.
 */
export function checkServerConfig(config: Config): void {
  if (config.production && !config.keyEncryptionKey) {
    throw new ConfigError(['KEY_ENCRYPTION_KEY is required when NODE_ENV=production: it seals the private signing keys in the database (`openssl rand -base64 32`)']);
  }
}

/** Reads every setting and reports all bad values at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must start with postgres:// or postgresql://');
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  let bodyLimitBytes = 50 * 1024 * 1024;
  if (env.BODY_LIMIT) {
    const parsed = parseBytes(env.BODY_LIMIT);
    if (parsed === undefined || parsed < 1024) problems.push(`BODY_LIMIT=${JSON.stringify(env.BODY_LIMIT)} must be a size such as 50mb (at least 1kb)`);
    else bodyLimitBytes = parsed;
  }
  const baseUrl = env.BASE_URL || undefined;
  if (baseUrl && !/^https?:\/\/[^\s]+$/.test(baseUrl)) problems.push('BASE_URL must be an http(s) URL');

  const knownSchemes = ['bg-egn', 'bg-lnch', 'cz-rc', 'vn-cccd'];
  const nationalIdSchemes = (env.NATIONAL_ID_SCHEMES ?? knownSchemes.join(','))
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const name of nationalIdSchemes) {
    if (!knownSchemes.includes(name)) problems.push(`NATIONAL_ID_SCHEMES: unknown scheme '${name}' (known: ${knownSchemes.join(', ')})`);
  }

  const httpUrl = (name: string): string | undefined => {
    const raw = env[name];
    if (!raw) return undefined;
    if (!/^https?:\/\/[^\s]+$/.test(raw)) problems.push(`${name} must be an http(s) URL`);
    return raw.replace(/\/$/, '');
  };
  const tokenSigningAlg = env.TOKEN_SIGNING_ALG || 'ES384';
  if (tokenSigningAlg !== 'ES384' && tokenSigningAlg !== 'RS384') problems.push('TOKEN_SIGNING_ALG must be ES384 or RS384');
  const adminBootstrapToken = env.ADMIN_BOOTSTRAP_TOKEN || undefined;
  if (adminBootstrapToken && adminBootstrapToken.length < 32) problems.push('ADMIN_BOOTSTRAP_TOKEN must be at least 32 characters');
  const patientIdpIssuer = env.PATIENT_IDP_ISSUER || undefined;
  const patientIdpJwksUrl = httpUrl('PATIENT_IDP_JWKS_URL');
  const patientIdpJwksFile = env.PATIENT_IDP_JWKS_FILE ? path.resolve(env.PATIENT_IDP_JWKS_FILE) : undefined;
  if (patientIdpIssuer && !patientIdpJwksUrl && !patientIdpJwksFile) problems.push('PATIENT_IDP_ISSUER needs PATIENT_IDP_JWKS_URL or PATIENT_IDP_JWKS_FILE');
  const production = env.NODE_ENV === 'production';
  const auditReadCommit = env.AUDIT_READ_COMMIT || 'durable';
  if (auditReadCommit !== 'durable' && auditReadCommit !== 'fast') problems.push('AUDIT_READ_COMMIT must be durable or fast');

  const registryMode = registryModeOf(env, problems);
  const keyEncryptionKey = env.KEY_ENCRYPTION_KEY ? parseKeyEncryptionKey(env.KEY_ENCRYPTION_KEY) : undefined;
  if (env.KEY_ENCRYPTION_KEY && !keyEncryptionKey) problems.push('KEY_ENCRYPTION_KEY must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)');

  const config: Config = {
    port: int('PORT', 8080, 0, 65535),
    host: env.HOST || '127.0.0.1',
    databaseUrl,
    dataDir: path.resolve(env.DATA_DIR || './data'),
    logLevel,
    bodyLimitBytes,
    workers: int('WORKERS', os.availableParallelism?.() ?? os.cpus().length, 1, 256),
    dbPoolSize: int('DB_POOL_SIZE', 10, 1, 1000),
    dbAcquireTimeoutMs: int('DB_ACQUIRE_TIMEOUT_MS', 5000, 1, 600000),
    dbStatementTimeoutMs: int('DB_STATEMENT_TIMEOUT_MS', 30000, 0, 3600000),
    dbLockTimeoutMs: int('DB_LOCK_TIMEOUT_MS', 5000, 0, 3600000),
    requestTimeoutMs: int('REQUEST_TIMEOUT_MS', 60000, 0, 3600000),
    baseUrl: baseUrl?.replace(/\/$/, ''),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10000, 0, 600000),
    authIssuer: httpUrl('AUTH_ISSUER'),
    tokenTtlSeconds: int('TOKEN_TTL_SECONDS', 300, 30, 900),
    developmentTokenTtlSeconds: int('DEVELOPMENT_TOKEN_TTL_SECONDS', 8 * 3600, 30, 24 * 3600),
    tokenSigningAlg: tokenSigningAlg as Config['tokenSigningAlg'],
    signingKeyRotationSeconds: int('SIGNING_KEY_ROTATION_SECONDS', 86400, 60, 365 * 86400),
    patientIdpIssuer,
    patientIdpJwksUrl,
    patientIdpJwksFile,
    patientIdpAudience: env.PATIENT_IDP_AUDIENCE || undefined,
    patientIdpNationalIdClaim: env.PATIENT_IDP_NATIONAL_ID_CLAIM || 'national_id',
    corsOrigins: (env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    rateLimitPerMinute: int('RATE_LIMIT_PER_MINUTE', 1200, 0, 1_000_000),
    authFailureLimitPerMinute: int('AUTH_FAILURE_LIMIT_PER_MINUTE', 100, 0, 1_000_000),
    trustProxy: trustProxyOf(env.TRUST_PROXY, problems),
    auditReadCommit: auditReadCommit as 'durable' | 'fast',
    production,
    keyEncryptionKey,
    adminBootstrapToken,
    developmentCredentials: !production && env.DEVELOPMENT_CREDENTIALS !== 'off',
    bundleMaxEntries: int('BUNDLE_MAX_ENTRIES', 5000, 1, 1000000),
    jobPollIntervalMs: int('JOB_POLL_INTERVAL_MS', 500, 10, 600000),
    jobLeaseMs: int('JOB_LEASE_MS', 60000, 1000, 3600000),
    idempotencyTtlHours: int('IDEMPOTENCY_TTL_HOURS', 24, 24, 8760),
    nationalIdSchemes,
    registryMode,
    nationalProfiles: nationalProfilesMode(env.NATIONAL_PROFILES, registryMode, problems),
    prescriptionValidityDays: int('PRESCRIPTION_VALIDITY_DAYS', 30, 1, 3650),
    prescriptionMaxValidityDays: int('PRESCRIPTION_MAX_VALIDITY_DAYS', 365, 1, 3650),
    prescriptionLeaseMinutes: int('PRESCRIPTION_LEASE_MINUTES', 30, 1, 24 * 60),
    prescriptionExpiryIntervalMs: int('PRESCRIPTION_EXPIRY_INTERVAL_MS', 60000, 100, 86400000),
    prescriptionSecretKey: env.PRESCRIPTION_SECRET_KEY || undefined,
    seedDemo: seedDemoOf(env, problems),
  };
  if (config.prescriptionValidityDays > config.prescriptionMaxValidityDays) problems.push('PRESCRIPTION_VALIDITY_DAYS must not exceed PRESCRIPTION_MAX_VALIDITY_DAYS');
  if (config.prescriptionSecretKey && !/^[0-9a-fA-F]{64,}$/.test(config.prescriptionSecretKey)) problems.push('PRESCRIPTION_SECRET_KEY must be at least 64 hex characters');
  if (problems.length) throw new ConfigError(problems);
  return config;
}
