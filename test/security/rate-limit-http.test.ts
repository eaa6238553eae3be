// Rate limits over HTTP under concurrency, and the limit on refused authentications per client
// address with its aggregated audit (issue 12, items 12 and 13).
import { Client } from 'pg';
import { findAuditRows } from '../../src/repository/audit-events';
import { openDatabase } from '../../src/repository/db';
import { auditEventJson } from '../../src/store/audit/audit-event-json';
import { buildPatient } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

/** Runs `total` calls of `fn`, `concurrency` at a time; returns their results in order. */
async function runConcurrently<T>(total: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(total);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) results[i] = await fn(i);
    }),
  );
  return results;
}

/** Limits count per wall-clock minute: start with at least `seconds` of the minute left. */
async function awaitFreshMinute(seconds: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < seconds * 1000) await new Promise((r) => setTimeout(r, left + 50));
}

/** Every stored audit row, read through a connection of its own (the server may be closed). */
async function auditRows(s: TestServer) {
  const handle = await openDatabase({ databaseUrl: s.config.databaseUrl, poolSize: 1 });
  try {
    return await findAuditRows(handle.db, { conditions: [], descending: false, limit: 10_000 });
  } finally {
    await handle.close();
  }
}

async function query<T>(s: TestServer, text: string): Promise<T[]> {
  const c = new Client({ connectionString: s.database!.url });
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end();
  }
}

test('at concurrency 32 a client is served exactly its limit per minute', async () => {
  const s = await startTestServer({ env: { RATE_LIMIT_PER_MINUTE: '600' } });
  try {
    const created = await s.fetch('/Patient', { method: 'POST', json: buildPatient() });
    expect(created.status).toBe(201);
    await awaitFreshMinute(18);
    const statuses = await runConcurrently(800, 32, async () => (await s.fetch(`/Patient/${created.body.id}`)).status);
    const served = statuses.filter((x) => x === 200).length;
    const refused = statuses.filter((x) => x === 429).length;
    // The create above used one request of the same client's minute (unless the minute turned since).
    expect(served + refused).toBe(800);
    expect(served).toBeGreaterThanOrEqual(599);
    expect(served).toBeLessThanOrEqual(600);
  } finally {
    await s.close();
  }
}, 120_000);

test('refused authentications: limited per address before authentication, audited as an aggregate', async () => {
  const s = await startTestServer({ env: { AUTH_FAILURE_LIMIT_PER_MINUTE: '20' } });
  try {
    await awaitFreshMinute(8);
    const badToken = `Bearer ${Buffer.from('{"alg":"ES384"}').toString('base64url')}.${Buffer.from('{"client_id":"mallory"}').toString('base64url')}.c2ln`;
    const statuses = await runConcurrently(300, 8, async () => (await s.fetch('/Patient', { headers: { authorization: badToken } })).status);
    expect(statuses.filter((x) => x === 401).length).toBe(20);
    expect(statuses.filter((x) => x === 429).length).toBe(280);
    // Once over the limit the address is refused before its token is looked at, even a valid one, with an OperationOutcome.
    const refused = await s.fetch('/Patient');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(refused.body.issue[0].details.coding[0].code).toBe('NHIS-1430');
    // Metadata stays reachable (not authenticated).
    expect((await s.fetch('/metadata', { anonymous: true })).status).toBe(200);

    const durable = async (client: string) =>
      (await auditRows(s))
        .map((r) => auditEventJson(r) as any)
        .filter((e) => e.subtype?.[0]?.code === '110122' && e.agent[0].who.identifier?.value === client);
    // The first 5 refusals of each caller (address and claimed client) are recorded at once;
    // the other 295 of mallory's wait for the aggregate.
    const before = await durable('mallory');
    expect(before).toHaveLength(5);
    expect(before.every((e) => /malformed token/.test(e.outcomeDesc))).toBe(true);
    const hospital = JSON.parse(Buffer.from(s.tokens.hospital.split('.')[1], 'base64url').toString()).client_id as string;
    expect(await durable(hospital)).toHaveLength(1);
    await s.running.close();
    const after = await durable('mallory');
    expect(after).toHaveLength(6);
    const aggregate = after.find((e) => e.period);
    expect(aggregate.outcomeDesc).toMatch(/^295 further refused authentications from this caller: /);
    expect(aggregate.outcomeDesc).toMatch(/280× Too many refused authentications/);
    expect(aggregate.outcomeDesc).toMatch(/15× Authentication failed: malformed token/);
    expect(aggregate.agent[0].network.address).toMatch(/127\.0\.0\.1/);
    expect(Date.parse(aggregate.period.end)).toBeGreaterThanOrEqual(Date.parse(aggregate.period.start));
  } finally {
    await s.close();
  }
}, 120_000);
