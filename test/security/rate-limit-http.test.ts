// Rate limits over HTTP under concurrency (issue 12, item 12).
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

test('at concurrency 32 a client is served exactly its limit per minute', async () => {
  const s = await startTestServer({ env: { RATE_LIMIT_PER_MINUTE: '600' } });
  try {
    const created = await s.fetch('/Patient', { method: 'POST', json: buildPatient() });
    expect(created.status).toBe(201);
    await awaitFreshMinute(25);
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
