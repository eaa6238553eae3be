// Bad input of every kind is a clear 4xx OperationOutcome and stores nothing (issue 12, items 6, 7, 8, 11).
import { buildObservation } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

/** How many Observations carry this note text (to prove a refused request stored nothing). */
async function countByMarker(type: string, marker: string): Promise<number> {
  const res = await s.fetch(`/${type}?_content=${encodeURIComponent(marker)}&_summary=count`);
  if (res.status === 200) return res.body.total;
  // _content may not be indexed: fall back to scanning the type's history.
  const all = await s.fetch(`/${type}/_history?_count=1000`);
  return (all.body.entry ?? []).filter((e: any) => JSON.stringify(e.resource ?? {}).includes(marker)).length;
}

function expectOutcome(res: { status: number; body: any }, status: number): void {
  expect(res.status).toBe(status);
  expect(res.body?.resourceType).toBe('OperationOutcome');
}

test('numbers outside PostgreSQL numeric range are 400 at validation, alone and in a transaction, storing nothing', async () => {
  for (const number of ['1e999999', '1e-999999', '1e131072', '-1e131072', '0.5e-16383', '0e-20000']) {
    const marker = `num-${Math.random().toString(36).slice(2)}`;
    const body = JSON.stringify(buildObservation({ note: [{ text: marker }], valueQuantity: { value: 0 } })).replace('"value":0', `"value":${number}`);
    const alone = await s.fetch('/Observation', { method: 'POST', json: body });
    expectOutcome(alone, 400);
    expect(alone.body.issue[0].expression).toEqual(['Observation.valueQuantity.value']);
    const entry = (resource: string) => `{"resource":${resource},"request":{"method":"POST","url":"Observation"}}`;
    const bundle = `{"resourceType":"Bundle","type":"transaction","entry":[${entry(JSON.stringify(buildObservation({ note: [{ text: marker }] })))},${entry(body)}]}`;
    const inTx = await s.fetch('/', { method: 'POST', json: bundle });
    expectOutcome(inTx, 400);
    expect(await countByMarker('Observation', marker)).toBe(0);
  }
  // The edges of the range are accepted and read back verbatim.
  for (const number of ['1e131071', '1e-16383', '123.45e131069']) {
    const body = JSON.stringify(buildObservation()).replace('"value":72', `"value":${number}`);
    const ok = await s.fetch('/Observation', { method: 'POST', json: body });
    expect(ok.status).toBe(201);
    expect(ok.text).toContain(`"value":${number}`);
  }
});
