import type { Server } from 'node:http';
import express from 'express';
import { createAdminRouter } from '../../src/auth/admin-router';
import { createAuthRouter } from '../../src/auth/auth-router';
import { createAuthService, type AuthService, type AuthServiceDeps } from '../../src/auth/auth-service';
import { loadConfig, type Config } from '../../src/config/config';
import { errorHandler } from '../../src/http/error-handler';
import { openDatabase, type DbHandle } from '../../src/repository/db';
import { migrateToLatest } from '../../src/repository/migrate';
import { createLogger } from '../../src/shared/logger';
import { createTestDatabase, type TestDatabase } from '../support/db';

export const ISSUER = 'https://nhis.test/fhir';

export interface TestClock {
  now(): Date;
  set(d: Date): void;
  advance(seconds: number): void;
}

export function createTestClock(start = new Date()): TestClock {
  let t = start.getTime();
  return { now: () => new Date(t), set: (d) => (t = d.getTime()), advance: (s) => (t += s * 1000) };
}

export interface SecurityHarness {
  database: TestDatabase;
  handle: DbHandle;
  config: Config;
  clock: TestClock;
  auth: AuthService;
  close(): Promise<void>;
}

export async function startSecurityHarness(env: Record<string, string> = {}, deps: Partial<AuthServiceDeps> = {}): Promise<SecurityHarness> {
  const database = await createTestDatabase();
  const handle = await openDatabase({ databaseUrl: database.url });
  await migrateToLatest(handle.db);
  const config = loadConfig({ DATABASE_URL: database.url, AUTH_ISSUER: ISSUER, DEVELOPMENT_CREDENTIALS: 'off', LOG_LEVEL: 'silent', ...env });
  const clock = createTestClock();
  const auth = createAuthService({ db: handle.db, config, clock, ...deps });
  return {
    database,
    handle,
    config,
    clock,
    auth,
    close: async () => {
      await handle.close();
      await database.drop();
    },
  };
}

/** A small express app with the auth and admin routers, on 127.0.0.1:0. */
export async function startAuthApp(h: SecurityHarness, bootstrapToken?: string): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use(createAuthRouter({ auth: h.auth }));
  app.use(createAdminRouter({ db: h.handle.db, auth: h.auth, clock: h.clock, bootstrapToken }));
  app.use(errorHandler(createLogger('silent')));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
