// Synthea transaction Bundles ingested end to end: https://hl7.org/fhir/R4/http.html#transaction
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { startTestServer, TestServer } from '../../support/server';
import { SYNTHEA_DIR } from '../../support/synthea';

const SYNTHEA = SYNTHEA_DIR;

interface Manifest {
  files: { file: string; entries: number; resource_types: Record<string, number> }[];
}

function readBundle(file: string): { entry: { fullUrl: string; resource: { resourceType: string } }[] } {
  return JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(SYNTHEA, file))).toString('utf8'));
}

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
}, 180_000);
afterAll(async () => {
  await s.close();
}, 30_000);

test('the Synthea bundles ingest; counts per type match; references point at stored resources', async () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(SYNTHEA, 'manifest.json'), 'utf8')) as Manifest;
  const files = [...manifest.files].sort((a, b) => rank(a.file) - rank(b.file));
  // Every bundle in the folder, whichever set it is (14 in ../shared, 5 in the shipped sample), is in the manifest.
  expect(files.map((f) => f.file).sort()).toEqual(fs.readdirSync(SYNTHEA).filter((f) => f.endsWith('.json.gz')).sort());
  expect(files.length).toBeGreaterThanOrEqual(5);
  const expected: Record<string, number> = {};
  const failures: string[] = [];
  const responses: { file: string; body: any }[] = [];
  for (const f of files) {
    const res = await s.fetch('/', { method: 'POST', json: readBundle(f.file), headers: { prefer: 'return=minimal' } });
    if (res.status !== 200) {
      failures.push(`${f.file}: ${res.status} ${res.body?.issue?.slice(0, 5).map((i: any) => `${i.expression?.join(',')}: ${i.diagnostics}`).join(' | ')}`);
      continue;
    }
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry).toHaveLength(f.entries);
    for (const e of res.body.entry) {
      expect(e.response.status).toBe('201 Created');
      expect(e.response.etag).toBe('W/"1"');
      expect(e.response.location).toMatch(/^[A-Za-z]+\/[0-9a-f-]+\/_history\/1$/);
    }
    for (const [t, n] of Object.entries(f.resource_types)) expected[t] = (expected[t] ?? 0) + n;
    responses.push({ file: f.file, body: res.body });
  }
  expect(failures).toEqual([]);

  for (const [type, n] of Object.entries(expected)) {
    const res = await s.fetch(`/${type}?_summary=count&_total=accurate`);
    expect(`${type}: ${res.body.total}`).toBe(`${type}: ${n}`);
  }

  // A sample of references of one patient bundle, read back and resolved.
  // The patient bundle with the most entries (Kathy Walker's in the full set).
  const sample = responses.filter((r) => rank(r.file) === 2).sort((a, b) => b.body.entry.length - a.body.entry.length)[0];
  const locations = sample.body.entry.map((e: any) => e.response.location.replace(/\/_history\/1$/, ''));
  const observation = locations.find((l: string) => l.startsWith('Observation/'));
  const encounter = locations.find((l: string) => l.startsWith('Encounter/'));
  const checked = new Set<string>();
  for (const loc of [observation, encounter]) {
    const stored = await s.fetch(`/${loc}`);
    expect(stored.status).toBe(200);
    const refs = [...stored.text.matchAll(/"reference":"([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).not.toMatch(/^urn:/);
      if (ref.startsWith('#')) continue;
      const target = await s.fetch(`/${ref}`);
      expect(`${ref} → ${target.status}`).toBe(`${ref} → 200`);
      checked.add(ref);
    }
  }
  expect(checked.size).toBeGreaterThanOrEqual(3);
  // No stored resource keeps a bundle-local reference.
  const { Client } = await import('pg');
  const c = new Client({ connectionString: s.database!.url });
  await c.connect();
  try {
    const { rows } = await c.query(`select count(*)::int as n from resource where content like '%"reference":"urn:%'`);
    expect(rows[0].n).toBe(0);
  } finally {
    await c.end();
  }
}, 180_000);

function rank(file: string): number {
  if (file.startsWith('practitioner')) return 0;
  if (file.startsWith('hospital')) return 1;
  return 2;
}
