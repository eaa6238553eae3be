/**
 * `indexResources` (one DELETE + multi-row INSERTs per index table for many
 * resources) writes exactly what `indexResource` writes one by one, replaces
 * old rows, and splits statements that would pass the bind-parameter limit.
 * The default `_total` is computed without a count when the first page holds
 * every match, and omitted on later pages (https://hl7.org/fhir/R4/search.html#total).
 */
import { sql } from 'kysely';
import { inTransaction } from '../../../src/repository/transaction';
import { extractIndexRows } from '../../../src/store/search/extract-index';
import { openFixture, type SearchFixture } from './fixture';

let f: SearchFixture;

beforeAll(async () => {
  f = await openFixture('postgres');
}, 180_000);

afterAll(async () => {
  await f?.close();
});

function buildObservation(i: number): { resourceType: string; id: string } & Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id: `bulk-${i}`,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8480-6', display: 'Systolic' }] },
    subject: { reference: `Patient/bp-${i % 7}` },
    effectiveDateTime: `2024-02-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z`,
    valueQuantity: { value: 100 + i, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
  };
}

async function storedRows(table: string, ids: string[]): Promise<string[]> {
  const r = await sql<Record<string, unknown>>`select * from ${sql.id(`search_${table}`)} where resource_id in (${sql.join(ids)})`.execute(f.handle.db);
  return r.rows.map((row) => JSON.stringify(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : String(v)]))).sort();
}

test('indexResources writes what indexResource writes, and replaces earlier rows', async () => {
  const one = [buildObservation(1), buildObservation(2)].map((r) => ({ ...r, id: `one-${r.id}` }));
  const many = [buildObservation(1), buildObservation(2)];
  await inTransaction(f.handle.db, async (tx) => {
    for (const r of one) await f.engine.indexResource(tx, r);
    await f.engine.indexResources(tx, many);
  });
  for (const table of ['token', 'reference', 'date', 'quantity']) {
    const a = (await storedRows(table, one.map((r) => r.id))).map((s) => s.replaceAll('one-bulk-', 'bulk-'));
    const b = await storedRows(table, many.map((r) => r.id));
    expect(b).toEqual(a);
    expect(b.length).toBeGreaterThan(0);
  }
  // Re-indexing with a changed resource replaces, never duplicates.
  await inTransaction(f.handle.db, async (tx) => f.engine.indexResources(tx, [{ ...many[0], status: 'amended' }, many[1]]));
  const statuses = await sql<{ code: string }>`select code from search_token where resource_id = 'bulk-1' and param = 'status'`.execute(f.handle.db);
  expect(statuses.rows.map((r) => r.code)).toEqual(['amended']);
});

test('a batch past the bind-parameter limit is split and fully written', async () => {
  const resources = Array.from({ length: 3000 }, (_, i) => buildObservation(1000 + i));
  const expected = resources.reduce((n, r) => n + extractIndexRows(r).token.length, 0);
  expect(expected * 7).toBeGreaterThan(65535);
  await inTransaction(f.handle.db, async (tx) => f.engine.indexResources(tx, resources));
  const n = await sql<{ n: string }>`select count(*) as n from search_token where resource_id ~ '^bulk-[0-9]{4}$'`.execute(f.handle.db);
  // bulk-1000 .. bulk-3999: the four-digit ids, not bulk-1 and bulk-2 of the test above.
  expect(Number(n.rows[0].n)).toBe(expected);
}, 60000);

test('default _total: a first page holding every match counts itself; later pages carry none; asked for, it is always counted', async () => {
  for (let i = 0; i < 5; i++) await f.put({ resourceType: 'Patient', id: `tot-${i}`, gender: 'unknown', birthDate: '1999-01-01' });
  const spy = jest.spyOn(f.handle.db, 'executeQuery');
  const small = await f.search('Patient', 'gender=unknown');
  expect(small.total).toBe(5);
  expect(spy.mock.calls.some(([q]) => /count\(\*\)/.test(JSON.stringify(q)))).toBe(false);
  spy.mockRestore();

  const first = await f.search('Patient', 'gender=unknown&_count=2');
  expect(first.total).toBe(5);
  const next = new URL(first.link.find((l) => l.relation === 'next')!.url).searchParams;
  const second = await f.search('Patient', [...next.entries()]);
  expect(second.total).toBeUndefined();
  next.set('_total', 'accurate');
  expect((await f.search('Patient', [...next.entries()])).total).toBe(5);
  expect((await f.search('Patient', 'gender=unknown&_total=none')).total).toBeUndefined();
});
