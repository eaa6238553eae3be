/**
 * `insertCreatedResources` (a Bundle's creates: resource, history and index rows in one
 * statement, every column one array parameter) stores exactly what the one-by-one path stores
 * (insertFirstVersion + history + indexResource), on PostgreSQL and on PGlite, values that need
 * escaping in an array literal included; and reports ids that were already taken.
 */
import { sql } from 'kysely';
import { extractIndexRows } from '../../src/store/search/extract-index';
import { insertCreatedResources } from '../../src/repository/bulk-write';
import { insertFirstVersion } from '../../src/repository/resources';
import { arrayLiteral } from '../../src/repository/search-index';
import { inTransaction } from '../../src/repository/transaction';
import { stringifyJson } from '../../src/shared/json';
import { openFixture, type SearchFixture } from '../fhir/search/fixture';

type Resource = { resourceType: string; id: string } & Record<string, unknown>;

function buildResources(prefix: string): Resource[] {
  return [
    {
      resourceType: 'Patient',
      id: `${prefix}-p`,
      identifier: [{ system: 'urn:oid:1.2.3', value: 'say "hi" \\ back\\slash, {braces}' }],
      name: [{ family: 'Ŝmith-Ärger', given: ['NULL', ''.padEnd(3, ' '), 'a,b'] }],
      birthDate: '1970-02',
      meta: { versionId: '1', lastUpdated: '2024-03-01T00:00:00.000Z' },
    },
    {
      resourceType: 'Observation',
      id: `${prefix}-o`,
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart "rate"' }], text: 'tab\there' },
      subject: { reference: `Patient/${prefix}-p` },
      effectivePeriod: { start: '2020-01-01T09:00:00+01:00' },
      valueQuantity: { value: 60.5, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
      meta: { versionId: '1', lastUpdated: '2024-03-01T00:00:00.000Z' },
    },
    {
      resourceType: 'RiskAssessment',
      id: `${prefix}-r`,
      status: 'final',
      subject: { reference: `Patient/${prefix}-p` },
      prediction: [{ probabilityDecimal: 0.25 }],
      meta: { versionId: '1', lastUpdated: '2024-03-01T00:00:00.000Z' },
    },
  ];
}

const TABLES = ['token', 'string', 'date', 'reference', 'number', 'quantity', 'uri'];
const when = new Date('2024-03-01T00:00:00Z');

async function stored(f: SearchFixture, prefix: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const norm = (rows: Record<string, unknown>[]) =>
    rows
      .map((row) =>
        JSON.stringify(Object.entries(row).filter(([k]) => k !== 'seq').map(([k, v]) => [k, v instanceof Date ? v.toISOString() : typeof v === 'string' ? v.replaceAll(`${prefix}-`, 'X-') : v === null ? null : String(v)])),
      )
      .sort();
  for (const t of TABLES) {
    const r = await sql<Record<string, unknown>>`select * from ${sql.id(`search_${t}`)} where resource_id like ${`${prefix}-%`}`.execute(f.handle.db);
    out[t] = norm(r.rows);
  }
  for (const t of ['resource', 'resource_history']) {
    const r = await sql<Record<string, unknown>>`select * from ${sql.id(t)} where id like ${`${prefix}-%`}`.execute(f.handle.db);
    out[t] = norm(r.rows);
  }
  return out;
}

test('arrayLiteral writes what node-postgres writes for a JS array', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { prepareValue } = require('pg/lib/utils') as { prepareValue: (v: unknown) => string };
  const values = ['a', 'say "hi"', 'back\\slash', null, '', 'NULL', 'x,y', '{z}', 3, 'Ŝ', undefined];
  expect(arrayLiteral(values)).toBe(prepareValue(values));
});

describe.each(['postgres', 'pglite'] as const)('%s', (kind) => {
  let f: SearchFixture;
  beforeAll(async () => {
    f = await openFixture(kind);
  }, 180_000);
  afterAll(async () => {
    await f?.close();
  });

  test('stores what the one-by-one path stores', async () => {
    const one = buildResources('one');
    const bulk = buildResources('bulk');
    await inTransaction(f.handle.db, async (tx) => {
      for (const r of one) {
        const content = stringifyJson(r);
        await insertFirstVersion(tx, { resourceType: r.resourceType, id: r.id, versionId: 1, lastUpdated: when, deleted: false, content, method: 'create' });
        await f.engine.indexResource(tx, r);
      }
      const taken = await insertCreatedResources(tx, {
        lastUpdated: when,
        resources: bulk.map((r) => ({ resourceType: r.resourceType, id: r.id, content: stringifyJson(r) })),
        index: bulk.map((r) => ({ resourceType: r.resourceType, id: r.id, rows: extractIndexRows(r) })),
      });
      expect(taken).toEqual([]);
    });
    const a = await stored(f, 'one');
    const b = await stored(f, 'bulk');
    expect(b).toEqual(a);
    for (const t of ['token', 'string', 'date', 'reference', 'number', 'quantity', 'resource', 'resource_history']) expect(b[t].length).toBeGreaterThan(0);
  });

  test('reports ids that are already taken', async () => {
    const [first] = buildResources('taken');
    const write = (rs: Resource[]) =>
      inTransaction(f.handle.db, (tx) =>
        insertCreatedResources(tx, {
          lastUpdated: when,
          resources: rs.map((r) => ({ resourceType: r.resourceType, id: r.id, content: stringifyJson(r) })),
          index: rs.map((r) => ({ resourceType: r.resourceType, id: r.id, rows: extractIndexRows(r) })),
        }),
      );
    expect(await write([first])).toEqual([]);
    expect(await write([first, { ...first, id: 'taken-new' }])).toEqual(['Patient/taken-p']);
  });
});
