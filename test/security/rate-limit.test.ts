// Per-client rate limit, state in PostgreSQL so it holds across server processes.
import { sql } from 'kysely';
import { checkRateLimit, enforceRateLimit } from '../../src/auth/rate-limit';
import type { FhirError } from '../../src/errors/fhir-error';
import { openDatabase, type DbHandle } from '../../src/repository/db';
import { startSecurityHarness, type SecurityHarness } from './setup';

let h: SecurityHarness;
let second: DbHandle;
beforeAll(async () => {
  h = await startSecurityHarness();
  second = await openDatabase({ databaseUrl: h.database.url });
}, 180_000);
afterAll(async () => {
  await second.close();
  await h.close();
});

test('the request over the limit answers 429 with Retry-After until the window ends', async () => {
  const now = new Date('2030-01-01T10:00:45Z');
  for (let i = 0; i < 3; i++) expect((await checkRateLimit(h.handle.db, 'c1', now, { limit: 3 })).allowed).toBe(true);
  const err = (await enforceRateLimit(h.handle.db, 'c1', now, { limit: 3 }).catch((e: unknown) => e)) as FhirError;
  expect(err.status).toBe(429);
  expect(err.headers['Retry-After']).toBe('15');
  expect(err.issues[0]).toMatchObject({ code: 'throttled', nhisCode: 'NHIS-1429' });
  // other clients are unaffected; the next window starts afresh
  expect((await checkRateLimit(h.handle.db, 'c2', now, { limit: 3 })).allowed).toBe(true);
  expect(await checkRateLimit(h.handle.db, 'c1', new Date('2030-01-01T10:01:00Z'), { limit: 3 })).toMatchObject({ allowed: true, remaining: 2 });
});

test('two processes (two pools) share one counter, and concurrent increments are not lost', async () => {
  const now = new Date('2030-01-01T11:00:00Z');
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => checkRateLimit(i % 2 ? second.db : h.handle.db, 'shared', now, { limit: 10 })));
  expect(results.filter((r) => r.allowed)).toHaveLength(10);
  expect(results.filter((r) => !r.allowed)).toHaveLength(10);
});

test('limit 0 disables', async () => {
  expect((await checkRateLimit(h.handle.db, 'c3', new Date(), { limit: 0 })).allowed).toBe(true);
});

test('large limits are claimed in blocks: exact in total across processes, few database writes', async () => {
  const now = new Date('2030-01-01T12:00:00Z');
  // limit 1000: blocks of 10. 1,100 requests spread over two processes: exactly 1,000 allowed.
  const results = [];
  for (let i = 0; i < 1100; i++) results.push(await checkRateLimit(i % 3 ? second.db : h.handle.db, 'blocky', now, { limit: 1000 }));
  expect(results.filter((r) => r.allowed)).toHaveLength(1000);
  const { rows } = await sql<{ count: number }>`select count from rate_limit_window where client_id = 'blocky'`.execute(h.handle.db);
  // The shared counter moved in blocks: at most one claim per 10 requests, plus the refused claims.
  expect(Number(rows[0].count)).toBeGreaterThanOrEqual(1000);
  expect(Number(rows[0].count)).toBeLessThanOrEqual(1000 + 10 * 100);
});
