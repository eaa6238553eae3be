/**
 * Benchmark helpers: the server refuses requests without a bearer token and
 * counts each request against its client's rate limit. A benchmark registers
 * its own client in the scratch database and is issued a token in-process
 * (the same path as `npm run token` on PostgreSQL), and raises the per-client
 * limit so that it is still counted (the production path) but never trips.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { createAuthService } from '../../src/auth/auth-service';
import { ROLE_DEFAULT_SCOPES } from '../../src/auth/development-credentials';
import type { Config } from '../../src/config/config';
import { findClient, insertClient } from '../../src/repository/clients';
import type { Db } from '../../src/repository/db';
import { systemClock } from '../../src/shared/clock';

/**
 * Environment for loadConfig in benchmarks: longest token life, and the rate
 * limit from BENCH_RATE_LIMIT (requests per minute per client; 0 turns the
 * counter off; default 1,000,000: counted, never refused), and AUDIT_READ_COMMIT
 * passed through (default durable) so both audit modes can be measured.
 */
export function benchEnv(): Record<string, string> {
  return {
    TOKEN_TTL_SECONDS: '900',
    RATE_LIMIT_PER_MINUTE: process.env.BENCH_RATE_LIMIT ?? '1000000',
    DEVELOPMENT_CREDENTIALS: 'off',
    AUDIT_READ_COMMIT: process.env.AUDIT_READ_COMMIT ?? 'durable',
    SEED_DEMO: 'off',
  };
}

/** Registers a client of `role` (default hospital: system/*.cruds) in the server's database and returns `Bearer <token>`. */
export async function benchAuthorization(db: Db, config: Config, role: keyof typeof ROLE_DEFAULT_SCOPES = 'hospital'): Promise<string> {
  const { publicKey } = await generateKeyPair('ES384', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: randomUUID(), alg: 'ES384' };
  const id = `bench-${role}-${randomUUID().slice(0, 8)}`;
  await insertClient(
    db,
    { id, name: `Benchmark ${role}`, role, organization: 'BENCH001', scopes: ROLE_DEFAULT_SCOPES[role], jwks: { keys: [publicJwk as unknown as Record<string, unknown>] }, active: true },
    new Date(),
  );
  const client = await findClient(db, id);
  if (!client) throw new Error(`benchmark client ${id} was not stored`);
  const auth = createAuthService({ db, config, clock: systemClock, patientIdp: null });
  const issued = await auth.issueToken(client, ROLE_DEFAULT_SCOPES[role]);
  return `Bearer ${issued.access_token}`;
}
