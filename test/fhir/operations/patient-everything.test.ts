// Patient/$everything: the whole record, paged to the end, only what the client may read.
import { buildObservation, buildPatient } from '../../support/fixtures';
import { startTestServer, type TestServer } from '../../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
}, 180_000);
afterAll(async () => {
  await s?.close();
});

const refs = (b: any): string[] => b.entry.map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);

test('returns the patient and everything in the compartment, and nothing of another patient', async () => {
  const p = (await s.fetch('/Patient', { method: 'POST', json: buildPatient() })).body.id;
  const other = (await s.fetch('/Patient', { method: 'POST', json: buildPatient() })).body.id;
  const expected = [`Patient/${p}`];
  for (let i = 0; i < 5; i++) expected.push(`Observation/${(await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference: `Patient/${p}` } }) })).body.id}`);
  const cond = await s.fetch('/Condition', { method: 'POST', json: { resourceType: 'Condition', subject: { reference: `Patient/${p}` }, code: { text: 'asthma' } } });
  expected.push(`Condition/${cond.body.id}`);
  const foreign = await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference: `Patient/${other}` } }) });
  const deleted = await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference: `Patient/${p}` } }) });
  expect((await s.fetch(`/Observation/${deleted.body.id}`, { method: 'DELETE' })).status).toBeLessThan(300);

  const all = await s.fetch(`/Patient/${p}/$everything`);
  expect(all.status).toBe(200);
  expect(all.body.type).toBe('searchset');
  expect(refs(all.body).sort()).toEqual(expected.sort());
  expect(all.body.total).toBe(expected.length);
  expect(refs(all.body)).not.toContain(`Observation/${foreign.body.id}`);

  // Paged one at a time through `next`, the same set comes back, each resource once.
  const seen: string[] = [];
  let url: string | undefined = `/Patient/${p}/$everything?_count=2`;
  while (url) {
    const page: any = await s.fetch(url);
    expect(page.status).toBe(200);
    seen.push(...refs(page.body));
    const next = page.body.link.find((l: any) => l.relation === 'next')?.url as string | undefined;
    url = next ? next.slice(s.url.length) : undefined;
  }
  expect(seen.sort()).toEqual(expected.sort());

  const onlyConditions = await s.fetch(`/Patient/${p}/$everything?_type=Condition`);
  expect(refs(onlyConditions.body)).toEqual([`Condition/${cond.body.id}`]);
  const future = await s.fetch(`/Patient/${p}/$everything?_since=2999-01-01T00:00:00Z`);
  expect(future.body.entry).toEqual([]);
});

test('bad parameters are 400 naming the parameter; unknown patient 404; wrong type 404', async () => {
  const p = (await s.fetch('/Patient', { method: 'POST', json: buildPatient() })).body.id;
  for (const [q, name] of [
    ['_type=Nope', '_type'],
    ['_since=yesterday', '_since'],
    ['_count=-1', '_count'],
    ["_cursor=' or 1=1 --", '_cursor'],
  ]) {
    const res = await s.fetch(`/Patient/${p}/$everything?${q}`);
    expect([q, res.status]).toEqual([q, 400]);
    expect(res.body.issue[0].expression).toEqual([name]);
  }
  expect((await s.fetch('/Patient/no-such-patient/$everything')).status).toBe(404);
  expect((await s.fetch(`/Observation/${p}/$everything`)).status).toBe(404);
});

test('a pharmacy may not pull a whole record; a client sees only the types its scopes cover', async () => {
  const p = (await s.fetch('/Patient', { method: 'POST', json: buildPatient() })).body.id;
  await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference: `Patient/${p}` } }) });
  const pharmacy = await s.clientToken({ role: 'pharmacy', organization: 'PH900' });
  expect((await s.fetch(`/Patient/${p}/$everything`, { headers: { authorization: `Bearer ${pharmacy}` } })).status).toBe(403);
  const narrow = await s.clientToken({ role: 'hospital', scopes: ['system/Patient.rs', 'system/Condition.rs'] });
  const res = await s.fetch(`/Patient/${p}/$everything`, { headers: { authorization: `Bearer ${narrow}` } });
  expect(res.status).toBe(200);
  expect(refs(res.body)).toEqual([`Patient/${p}`]);
});
