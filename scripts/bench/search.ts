/**
 * Search benchmark (issue 3). For each data size: p50/p99 and req/s at
 * concurrency 1 and 16 for five searches over HTTP, each run side by side with
 * a FAIR hand-written SQL query (the same index tables, the same resource rows,
 * their stored content concatenated into a Bundle by a bare node:http server),
 * plus what indexing costs per resource on write. FHIR and hand SQL run
 * alternately for --rounds rounds of --duration seconds (see ./load.ts):
 * figures are medians over rounds, ratios medians of per-round ratios.
 *
 *   npm run build && node dist/scripts/bench/search.js --patients 2000[,20000] [--duration 2] [--rounds 3] [--keep]
 *   ... --db postgres://.../existing   reuse a seeded database (seeded if empty, never dropped)
 *
 * Needs PostgreSQL (BENCH_DATABASE_URL admin connection; a scratch database per
 * size is created, seeded with scripts/seed-synthetic.ts and dropped unless
 * --keep). Loopback only; every run is bounded by --duration seconds and
 * --max-requests; prints JSON.
 *
 * The server requires a bearer token: the benchmark registers its own client
 * (role hospital, see ./auth.ts; BENCH_RATE_LIMIT as there) and sends its token
 * on every request to both servers (the hand baseline ignores it).
 */
import http from 'node:http';
import { Pool } from 'pg';
import { loadConfig } from '../../src/config/config';
import { startServer } from '../../src/server';
import { createLogger } from '../../src/shared/logger';
import { openDatabase } from '../../src/repository/db';
import { migrateToLatest } from '../../src/repository/migrate';
import { LOINC, NATIONAL_ID_SYSTEM, nationalIdOf, seedSynthetic } from '../seed-synthetic';
import { benchAuthorization, benchEnv } from './auth';
import { createScratchDatabase } from './scratch-db';
import { latencyFigures, median, ratios, sideBySide, summarise, type LoadFigures } from './load';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const DURATION = Number(arg('--duration') ?? 2);
const ROUNDS = Number(arg('--rounds') ?? 3);
const MAX_REQUESTS = Number(arg('--max-requests') ?? 20000);
const SIZES = (arg('--patients') ?? arg('--sizes') ?? '2000').split(',').map(Number);
const REUSE_DB = arg('--db');
const KEEP = process.argv.includes('--keep');
const ONLY = arg('--only')?.split(',');

/** Encounter periods start 2018..2025: `ge2025-01-01` matches about one in eight. */
const ENC_FROM = '2025-01-01';
const ENC_LOW = '2025-01-01T00:00:00.000Z';
const ENC_HIGH = '2025-01-02T00:00:00.000Z';

interface Query {
  name: string;
  /** FHIR path+query for sample patient k. */
  path: (k: number) => string;
  /** The hand query for sample k: text and params; returns (id, content) in the FHIR order. `after` = keyset for paging. */
  sql: (k: number, after?: string) => [string, unknown[]];
  pageSize: number;
  /** Follow next links to the end; one operation is one traversal. */
  paged?: boolean;
}

const QUERIES: Query[] = [
  {
    name: 'Patient?identifier=sys|val',
    path: (k) => `/Patient?identifier=${encodeURIComponent(`${NATIONAL_ID_SYSTEM}|${nationalIdOf(k)}`)}`,
    sql: (k) => [
      `select r.id, r.content from search_token t join resource r on r.resource_type = t.resource_type and r.id = t.resource_id
       where t.resource_type = 'Patient' and t.param = 'identifier' and t.code = $2 and t.system = $1 and not r.deleted
       order by r.id limit 21`,
      [NATIONAL_ID_SYSTEM, nationalIdOf(k)],
    ],
    pageSize: 20,
  },
  {
    name: 'MedicationRequest?patient=..&status=active',
    path: (k) => `/MedicationRequest?patient=pat-${k}&status=active`,
    sql: (k) => [
      `select r.id, r.content from search_reference x join resource r on r.resource_type = x.resource_type and r.id = x.resource_id
       where x.target_id = $1 and x.param = 'patient' and x.resource_type = 'MedicationRequest' and x.target_type = 'Patient' and not r.deleted
         and exists (select 1 from search_token s where s.resource_type = 'MedicationRequest' and s.resource_id = r.id and s.param = 'status' and s.code = 'active')
       order by r.id limit 21`,
      [`pat-${k}`],
    ],
    pageSize: 20,
  },
  {
    name: 'Observation?patient=..&code=..&_sort=-date&_count=50',
    path: (k) => `/Observation?patient=pat-${k}&code=${encodeURIComponent(`${LOINC}|8480-6`)}&_sort=-date&_count=50`,
    sql: (k) => [
      `select r.id, r.content from search_reference x
         join search_token c on c.resource_type = x.resource_type and c.resource_id = x.resource_id and c.param = 'code' and c.code = $3 and c.system = $2
         join search_date d on d.resource_type = x.resource_type and d.resource_id = x.resource_id and d.param = 'date'
         join resource r on r.resource_type = x.resource_type and r.id = x.resource_id
       where x.target_id = $1 and x.param = 'patient' and x.resource_type = 'Observation' and x.target_type = 'Patient' and not r.deleted
       order by d.high desc, r.id limit 51`,
      [`pat-${k}`, LOINC, '8480-6'],
    ],
    pageSize: 50,
  },
  {
    name: 'MedicationRequest?subject:Patient.identifier=sys|val',
    path: (k) => `/MedicationRequest?${encodeURIComponent('subject:Patient.identifier')}=${encodeURIComponent(`${NATIONAL_ID_SYSTEM}|${nationalIdOf(k)}`)}`,
    sql: (k) => [
      `select r.id, r.content from search_token t
         join resource p on p.resource_type = 'Patient' and p.id = t.resource_id and not p.deleted
         join search_reference x on x.target_id = t.resource_id and x.param = 'subject' and x.resource_type = 'MedicationRequest' and x.target_type = 'Patient'
         join resource r on r.resource_type = x.resource_type and r.id = x.resource_id
       where t.resource_type = 'Patient' and t.param = 'identifier' and t.code = $2 and t.system = $1 and not r.deleted
       order by r.id limit 21`,
      [NATIONAL_ID_SYSTEM, nationalIdOf(k)],
    ],
    pageSize: 20,
  },
  {
    name: `Encounter?date=ge${ENC_FROM}&_count=100 (paged to the end)`,
    path: () => `/Encounter?date=ge${ENC_FROM}&_count=100`,
    sql: (_k, after) => [
      `select r.id, r.content from resource r
       where r.resource_type = 'Encounter' and not r.deleted and r.id > $3
         and exists (select 1 from search_date d where d.resource_type = 'Encounter' and d.resource_id = r.id and d.param = 'date'
                     and (d.high > $2::timestamptz or (d.low >= $1::timestamptz and d.high <= $2::timestamptz)))
       order by r.id limit 101`,
      [ENC_LOW, ENC_HIGH, after ?? ''],
    ],
    pageSize: 100,
    paged: true,
  },
];

interface Figures extends LoadFigures {
  /** Paged queries: full traversals done and their mean time. */
  traversals?: number;
  traversalMeanMs?: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** Sent with every request (set once the server is up); the hand baseline ignores it. */
const headers: Record<string, string> = {};

function get(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(base + path, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** The next page's path from a response body (FHIR: link next; bare: "next"). */
function nextOf(body: string, base: string): string | undefined {
  const parsed = JSON.parse(body) as { link?: { relation: string; url: string }[]; next?: string };
  if (parsed.next !== undefined) return parsed.next;
  const url = parsed.link?.find((l) => l.relation === 'next')?.url;
  if (!url) return undefined;
  const u = new URL(url, base);
  return u.pathname + u.search;
}

/** Closed loop: `connections` workers, each issuing its next request when the last one answered. */
async function load(base: string, paths: string[], connections: number, paged: boolean): Promise<Figures> {
  const latencies: number[] = [];
  const traversals: number[] = [];
  let errors = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(DURATION * 1e9);
  const timed = async (path: string) => {
    const t0 = process.hrtime.bigint();
    const res = await get(base, path);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (res.status !== 200) errors++;
    return res;
  };
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (process.hrtime.bigint() < deadline && latencies.length < MAX_REQUESTS) {
        const path = paths[next++ % paths.length];
        if (!paged) {
          await timed(path);
          continue;
        }
        const t0 = process.hrtime.bigint();
        let page: string | undefined = path;
        while (page !== undefined && latencies.length < MAX_REQUESTS * 2) {
          const res = await timed(page);
          page = res.status === 200 ? nextOf(res.body, base) : undefined;
        }
        traversals.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const out: Figures = latencyFigures(latencies, Number(process.hrtime.bigint() - started) / 1e9, errors);
  if (paged) {
    out.traversals = traversals.length;
    out.traversalMeanMs = traversals.length ? Math.round(traversals.reduce((a, b) => a + b, 0) / traversals.length) : 0;
  }
  return out;
}

async function createScratch(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (REUSE_DB) return { url: REUSE_DB, drop: async () => undefined };
  const scratch = await createScratchDatabase('nhis_bench_search');
  return { url: scratch.url, drop: async () => (KEEP ? undefined : scratch.drop()) };
}

const ratio = (a: number, b: number) => (b > 0 ? +(a / b).toFixed(2) : null);

/** Paged queries: medians of the traversal figures over rounds. */
function withTraversals(summary: ReturnType<typeof summarise>, rounds: Figures[]): Figures {
  const out: Figures = { ...summary };
  if (rounds[0]?.traversals !== undefined) {
    out.traversals = rounds.reduce((n, r) => n + (r.traversals ?? 0), 0);
    out.traversalMeanMs = Math.round(median(rounds.map((r) => r.traversalMeanMs ?? 0)));
  }
  return out;
}

async function benchSize(patients: number): Promise<Record<string, unknown>> {
  const scratch = await createScratch();
  try {
    const seedHandle = await openDatabase({ databaseUrl: scratch.url, poolSize: 2 });
    await migrateToLatest(seedHandle.db);
    const pool = new Pool({ connectionString: scratch.url, max: 16 });
    pool.on('error', () => undefined); // idle clients ended by drop database ... with (force) after a failure
    const existing = Number((await pool.query(`select count(*) as n from resource where resource_type = 'Patient'`)).rows[0].n);
    let seeded: Record<string, unknown> = { reused: existing };
    if (existing === 0) {
      const s = await seedSynthetic(seedHandle.db, { patients });
      seeded = { ...s, resourcesPerSecond: Math.round(s.resources / (s.ms / 1000)), msPerResource: +(s.ms / s.resources).toFixed(3) };
    } else if (existing !== patients) throw new Error(`--db holds ${existing} patients, not ${patients}`);
    await seedHandle.close();
    await pool.query('vacuum analyze');
    const sizes = await pool.query(
      `select relname as table, n_live_tup as rows from pg_stat_user_tables where relname like 'search_%' or relname = 'resource' order by relname`,
    );

    const config = loadConfig({ ...benchEnv(), PORT: '0', HOST: '127.0.0.1', DATABASE_URL: scratch.url, LOG_LEVEL: 'silent', DB_POOL_SIZE: '16' });
    const server = await startServer({ config, logger: createLogger('silent') });
    headers.authorization = await benchAuthorization(server.db, config);
    const serverBase = new URL(server.url);
    const fhirBase = `${serverBase.protocol}//${serverBase.host}`;
    const fhirPrefix = serverBase.pathname.replace(/\/$/, '');
    // The hand baseline: node:http + the hand query; /<query>/<k>[/<after>] → {"entry":[...], "next": "..."}.
    const bare = http.createServer((req, res) => {
      const [, qi, k, after] = (req.url ?? '').split('/');
      const q = QUERIES[Number(qi)];
      const [text, params] = q.sql(Number(k), after ? decodeURIComponent(after) : undefined);
      pool.query(text, params).then(
        (r) => {
          const rows = r.rows as { id: string; content: string }[];
          const more = rows.length > q.pageSize;
          const page = more ? rows.slice(0, q.pageSize) : rows;
          const next = q.paged && more ? `,"next":${JSON.stringify(`/${qi}/${k}/${encodeURIComponent(page[page.length - 1].id)}`)}` : '';
          res.setHeader('content-type', 'application/fhir+json');
          res.end(`{"resourceType":"Bundle","type":"searchset","entry":[${page.map((row) => `{"resource":${row.content}}`).join(',')}]${next}}`);
        },
        (err: Error) => {
          res.statusCode = 500;
          res.end(err.message);
        },
      );
    });
    await new Promise<void>((ok) => bare.listen(0, '127.0.0.1', ok));
    const bareBase = `http://127.0.0.1:${(bare.address() as { port: number }).port}`;

    const samples = Array.from({ length: 200 }, (_, i) => (i * 7919 + 13) % patients);
    const out: Record<string, unknown> = {};
    for (const [qi, q] of QUERIES.entries()) {
      if (ONLY && !ONLY.includes(String(qi))) continue;
      const fhirPaths = samples.map((k) => fhirPrefix + q.path(k));
      const barePaths = samples.map((k) => `/${qi}/${k}`);
      // Same rows, same order, on a few samples (all pages for the paged one).
      let sameRows = true;
      let exampleRows = 0;
      for (const k of samples.slice(0, q.paged ? 1 : 5)) {
        const ids = async (base: string, first: string) => {
          const all: string[] = [];
          let page: string | undefined = first;
          while (page !== undefined) {
            const res = await get(base, page);
            const body = JSON.parse(res.body) as { entry?: { resource: { id: string }; search?: { mode: string } }[] };
            all.push(...(body.entry ?? []).filter((e) => !e.search || e.search.mode === 'match').map((e) => e.resource.id));
            page = q.paged ? nextOf(res.body, fhirBase) : undefined;
          }
          return all;
        };
        const a = await ids(fhirBase, fhirPrefix + q.path(k));
        const b = await ids(bareBase, `/${qi}/${k}`);
        exampleRows = Math.max(exampleRows, a.length);
        if (JSON.stringify(a) !== JSON.stringify(b)) sameRows = false;
      }
      const fhir: Record<string, Figures> = {};
      const hand: Record<string, Figures> = {};
      const fhirOverSql: Record<string, unknown> = {};
      for (const c of [1, 16]) {
        const runs = await sideBySide(
          ROUNDS,
          () => load(fhirBase, fhirPaths, c, !!q.paged),
          () => load(bareBase, barePaths, c, !!q.paged),
        );
        fhir[`c${c}`] = withTraversals(summarise(runs.subject), runs.subject as Figures[]);
        hand[`c${c}`] = withTraversals(summarise(runs.baseline), runs.baseline as Figures[]);
        // < 1 for reqPerSec and > 1 for latencies: FHIR is slower than the hand query.
        fhirOverSql[`c${c}`] = ratios(runs.subject, runs.baseline);
      }
      out[q.name] = { sameRows, rowsPerSample: exampleRows, fhir, sql: hand, fhirOverSql };
    }
    await new Promise((ok) => bare.close(ok));
    await server.close();
    await pool.end();
    return { patients, seeded, tables: Object.fromEntries(sizes.rows.map((r: { table: string; rows: string }) => [r.table, Number(r.rows)])), queries: out };
  } catch (err) {
    // Report it before the drop below ends every connection (which would otherwise hide it).
    process.stderr.write(`size ${patients} failed: ${(err as Error).stack ?? String(err)}\n`);
    throw err;
  } finally {
    await scratch.drop();
  }
}

async function main(): Promise<void> {
  const results: Record<string, unknown>[] = [];
  for (const size of SIZES) {
    results.push(await benchSize(size));
    process.stderr.write(`size ${size} done\n`);
  }
  const summary: Record<string, unknown> = {};
  if (results.length >= 2) {
    // Scaling: p50 at the largest size over p50 at the smallest, per query (FHIR and hand SQL).
    const first = results[0].queries as Record<string, { fhir: { c1: Figures }; sql: { c1: Figures } }>;
    const last = results[results.length - 1].queries as typeof first;
    for (const name of Object.keys(first)) {
      if (!last[name]) continue;
      summary[name] = {
        fhirP50Growth_c1: ratio(last[name].fhir.c1.p50ms, first[name].fhir.c1.p50ms),
        sqlP50Growth_c1: ratio(last[name].sql.c1.p50ms, first[name].sql.c1.p50ms),
      };
    }
  }
  console.log(JSON.stringify({ durationSecPerRun: DURATION, rounds: ROUNDS, sizes: SIZES, results, scaling: summary }, null, 2));
  agent.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
