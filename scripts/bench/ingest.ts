/**
 * Bundle ingest benchmark (issue 4): generated patient transaction Bundles
 * (≈100–400 resources each, urn:uuid references) POSTed to `/` at concurrency
 * 1, 4 and 16, reporting resources/s and bundles/s; and in the same run a raw
 * baseline that inserts the same resources as JSON rows with multi-row INSERTs
 * (no validation, no search index, no reference rewriting).
 *
 *   npm run build && node dist/scripts/bench/ingest.js [--bundles 96] [--concurrency 1,4,16] [--no-size-compare]
 *
 * Then one 1,000-entry Bundle against ten 100-entry Bundles, alternating on one server.
 *
 * Both sides are measured warm, as a production server runs: before its timed run each side
 * ingests WARMUP_BUNDLES extra Bundles (fresh ids, not counted). Without it the first
 * concurrency level measured also paid for the process's one-time work (compiling every search
 * parameter of the types seen, JIT), which the later levels, in the same process, did not.
 * The validator is compiled by startServer before either (warmValidation). The raw side's
 * statements are the same as ever. The load generator (fetch) still runs in the server's
 * process and takes CPU from it (≈2 % of the process's CPU in a profile at concurrency 4);
 * that is kept, erring on the server's side. PostgreSQL runs on the same cores as both.
 *
 * The server requires a bearer token: the benchmark registers its own client
 * (see ./auth.ts; BENCH_RATE_LIMIT as there).
 *
 * Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres
 * as admin connection; scratch databases are created and dropped). Loopback only; prints JSON.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { loadConfig } from '../../src/config/config';
import { startServer } from '../../src/server';
import { createLogger } from '../../src/shared/logger';
import { benchAuthorization, benchEnv } from './auth';
import { createScratchDatabase } from './scratch-db';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const BUNDLES = arg('--bundles', 96);
const CONCURRENCY = (process.argv.includes('--concurrency') ? process.argv[process.argv.indexOf('--concurrency') + 1] : '1,4,16').split(',').map(Number);

type Json = Record<string, unknown>;

/** A deterministic-size patient record: 1 Patient, encounters, and per encounter observations, conditions, procedures. */
function buildPatientBundle(seed: number): Json {
  const entries: Json[] = [];
  const patientUrl = `urn:uuid:${randomUUID()}`;
  entries.push({
    fullUrl: patientUrl,
    resource: {
      resourceType: 'Patient',
      identifier: [{ system: 'https://example.org/national-id', value: `BENCH-${seed}-${randomUUID().slice(0, 8)}` }],
      name: [{ family: `Family${seed}`, given: ['Bench'] }],
      gender: seed % 2 ? 'female' : 'male',
      birthDate: '1970-01-01',
    },
    request: { method: 'POST', url: 'Patient' },
  });
  const encounters = 10 + (seed % 4) * 10; // 10..40 encounters → ≈100..400 resources
  for (let e = 0; e < encounters; e++) {
    const encUrl = `urn:uuid:${randomUUID()}`;
    const day = `2020-01-${String((e % 28) + 1).padStart(2, '0')}`;
    entries.push({
      fullUrl: encUrl,
      resource: {
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: patientUrl },
        period: { start: `${day}T09:00:00Z`, end: `${day}T09:30:00Z` },
      },
      request: { method: 'POST', url: 'Encounter' },
    });
    for (let o = 0; o < 7; o++) {
      entries.push({
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
          subject: { reference: patientUrl },
          encounter: { reference: encUrl },
          effectiveDateTime: `${day}T09:1${o}:00Z`,
          valueQuantity: { value: 60 + o, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
        },
        request: { method: 'POST', url: 'Observation' },
      });
    }
    entries.push({
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: {
        resourceType: 'Condition',
        subject: { reference: patientUrl },
        encounter: { reference: encUrl },
        code: { coding: [{ system: 'http://snomed.info/sct', code: '444814009', display: 'Viral sinusitis' }] },
        onsetDateTime: `${day}T09:00:00Z`,
      },
      request: { method: 'POST', url: 'Condition' },
    });
  }
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

const createDb = () => createScratchDatabase('nhis_bench_ingest');

/** Bundles each side ingests untimed before its timed run (see the header). */
const WARMUP_BUNDLES = 4;
const warmupBundles = () => Array.from({ length: WARMUP_BUNDLES }, (_, i) => buildPatientBundle(BUNDLES + i));

async function runPool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function benchServer(bundles: Json[], concurrency: number): Promise<Figures> {
  const db = await createDb();
  const config = loadConfig({ ...benchEnv(), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATABASE_URL: db.url, DB_POOL_SIZE: String(Math.max(10, concurrency + 4)) });
  const server = await startServer({ config, logger: createLogger('silent') });
  try {
    const authorization = await benchAuthorization(server.db, config);
    const post = async (body: string) => {
      const res = await fetch(`${server.url}/`, { method: 'POST', body, headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal', authorization } });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`bundle failed with ${res.status}: ${text.slice(0, 500)}`);
    };
    for (const b of warmupBundles()) await post(JSON.stringify(b));
    const bodies = bundles.map((b) => JSON.stringify(b));
    const resources = bundles.reduce((n, b) => n + (b.entry as unknown[]).length, 0);
    const started = process.hrtime.bigint();
    await runPool(bodies, concurrency, post);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return figures(concurrency, bundles.length, resources, seconds);
  } finally {
    await server.close();
    await db.drop();
  }
}

/**
 * The floor: the same resources (parsed from the same Bundle text) as JSON text
 * rows, one multi-row INSERT per table per Bundle, in one transaction. It is far
 * faster than the server, so the Bundles are sent again (fresh ids) until it
 * has run RAW_MIN_SECONDS, for a measurable time on a noisy machine.
 */
const RAW_MIN_SECONDS = 4;
async function benchRaw(bundles: Json[], concurrency: number): Promise<Figures> {
  const db = await createDb();
  const pool = new Pool({ connectionString: db.url, max: Math.max(10, concurrency + 4) });
  pool.on('error', () => undefined); // idle clients killed by the final drop database ... with (force)
  try {
    await pool.query(`create table raw_resource (resource_type text not null, id text not null, version_id int not null, last_updated timestamptz not null, content text not null, primary key (resource_type, id))`);
    await pool.query(`create table raw_history (resource_type text not null, id text not null, version_id int not null, last_updated timestamptz not null, content text, primary key (resource_type, id, version_id))`);
    const perPass = bundles.reduce((n, b) => n + (b.entry as unknown[]).length, 0);
    const bodies = bundles.map((b) => JSON.stringify(b));
    const insertBundle = async (body: string) => {
      const bundle = JSON.parse(body) as Json;
      const rows = (bundle.entry as { resource: Json }[]).map((e) => [e.resource.resourceType as string, randomUUID(), JSON.stringify(e.resource)]);
      const values = rows.map((_, i) => `($${i * 3 + 1}, $${i * 3 + 2}, 1, now(), $${i * 3 + 3})`).join(',');
      const params = rows.flat();
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query(`insert into raw_resource (resource_type, id, version_id, last_updated, content) values ${values}`, params);
        await client.query(`insert into raw_history (resource_type, id, version_id, last_updated, content) values ${values}`, params);
        await client.query('commit');
      } finally {
        client.release();
      }
    };
    for (const b of warmupBundles()) await insertBundle(JSON.stringify(b));
    let passes = 0;
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    do {
      passes++;
      await runPool(bodies, concurrency, insertBundle);
    } while (elapsed() < RAW_MIN_SECONDS && passes < 100);
    const seconds = elapsed();
    return figures(concurrency, bundles.length * passes, perPass * passes, seconds);
  } finally {
    await pool.end();
    await db.drop();
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

interface Figures {
  concurrency: number;
  bundles: number;
  resources: number;
  seconds: number;
  bundlesPerSecond: number;
  resourcesPerSecond: number;
  /** Wall-clock microseconds per resource (1e6 / resourcesPerSecond). */
  microsPerResource: number;
}

function figures(concurrency: number, bundles: number, resources: number, seconds: number): Figures {
  return {
    concurrency,
    bundles,
    resources,
    seconds: Math.round(seconds * 1000) / 1000,
    bundlesPerSecond: round(bundles / seconds),
    resourcesPerSecond: round(resources / seconds),
    microsPerResource: round((seconds * 1e6) / resources),
  };
}

/** `n` Observation entries (no urn references) in one transaction Bundle. */
function observationBundle(n: number, seed: number): string {
  const entry = Array.from({ length: n }, (_, i) => ({
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
      effectiveDateTime: `2021-02-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z`,
      valueQuantity: { value: 60 + ((seed + i) % 40), unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    },
    request: { method: 'POST', url: 'Observation' },
  }));
  return JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry });
}

/**
 * Issue 4's size check: one 1,000-entry Bundle against ten 100-entry Bundles sent one after the
 * other, alternating on one server for ROUNDS rounds (target: the big one under 2× the ten).
 */
async function benchSizes(rounds = 5): Promise<Json> {
  const db = await createDb();
  const config = loadConfig({ ...benchEnv(), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATABASE_URL: db.url });
  const server = await startServer({ config, logger: createLogger('silent') });
  const post = async (body: string, authorization: string) => {
    const res = await fetch(`${server.url}/`, { method: 'POST', body, headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal', authorization } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`bundle failed with ${res.status}: ${text.slice(0, 300)}`);
  };
  try {
    const authorization = await benchAuthorization(server.db, config);
    await post(observationBundle(100, 0), authorization); // warm-up
    const big: number[] = [];
    const ten: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const large = observationBundle(1000, r);
      const small = Array.from({ length: 10 }, (_, i) => observationBundle(100, r * 10 + i));
      let t = process.hrtime.bigint();
      await post(large, authorization);
      big.push(Number(process.hrtime.bigint() - t) / 1e6);
      t = process.hrtime.bigint();
      for (const b of small) await post(b, authorization);
      ten.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return { rounds, oneOf1000ms: Math.round(median(big)), tenOf100ms: Math.round(median(ten)), ratio: Math.round((median(big) / median(ten)) * 100) / 100 };
  } finally {
    await server.close();
    await db.drop();
  }
}

async function main(): Promise<void> {
  const bundles = Array.from({ length: BUNDLES }, (_, i) => buildPatientBundle(i));
  const server: Figures[] = [];
  const raw: Figures[] = [];
  const serverOverRaw: Json[] = [];
  for (const c of CONCURRENCY) {
    // Side by side: the server's run, then the raw floor's at the same concurrency.
    const s = await benchServer(bundles, c);
    const r = await benchRaw(bundles, c);
    server.push(s);
    raw.push(r);
    serverOverRaw.push({
      concurrency: c,
      // < 1: the server ingests that fraction of the raw INSERT rate.
      resourcesPerSecond: Math.round((s.resourcesPerSecond / r.resourcesPerSecond) * 1000) / 1000,
      microsPerResource: Math.round((s.microsPerResource / r.microsPerResource) * 100) / 100,
    });
    process.stderr.write(`concurrency ${c}: server ${s.resourcesPerSecond}/s, raw ${r.resourcesPerSecond}/s\n`);
  }
  const sizes = process.argv.includes('--no-size-compare') ? undefined : await benchSizes();
  if (sizes) process.stderr.write(`one 1,000-entry Bundle ${sizes.oneOf1000ms} ms vs ten 100-entry Bundles ${sizes.tenOf100ms} ms (ratio ${sizes.ratio})\n`);
  const results = { bundles: BUNDLES, resources: bundles.reduce((n, b) => n + (b.entry as unknown[]).length, 0), rateLimitPerMinute: benchEnv().RATE_LIMIT_PER_MINUTE, server, raw, serverOverRaw, sizes };
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
