/**
 * Core REST benchmark (issue 2): create/s and read-by-id req/s with p50/p99 at
 * concurrency 1 and 16 against PostgreSQL, and in the same run a bare baseline
 * (plain node:http answering the same read with one SELECT over pg).
 *
 *   npm run build && node dist/scripts/bench/core.js [--duration 10]
 *
 * Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres
 * as admin connection; a scratch database is created and dropped). Loopback only,
 * bounded in time, prints JSON.
 */
import autocannon from 'autocannon';
import http from 'node:http';
import { Client, Pool } from 'pg';
import { loadConfig } from '../../src/config/config';
import { startServer } from '../../src/server';
import { createLogger } from '../../src/shared/logger';

const ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const durationArg = process.argv.indexOf('--duration');
const DURATION = durationArg > 0 ? Number(process.argv[durationArg + 1]) : 10;

const OBSERVATION = JSON.stringify({
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
  subject: { reference: 'Patient/bench' },
  effectiveDateTime: '2026-01-02T10:00:00Z',
  valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
});

interface Figures {
  reqPerSec: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  non2xx: number;
}

function run(opts: autocannon.Options): Promise<Figures> {
  return new Promise((resolve, reject) => {
    autocannon({ ...opts, duration: DURATION }, (err, r) => {
      if (err) return reject(err);
      resolve({ reqPerSec: Math.round(r.requests.average), p50ms: r.latency.p50, p99ms: r.latency.p99, errors: r.errors, non2xx: r.non2xx });
    });
  });
}

async function main(): Promise<void> {
  const dbName = `nhis_bench_${Date.now()}`;
  const admin = new Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const url = new URL(ADMIN);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();

  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', DB_POOL_SIZE: '16' });
  const server = await startServer({ config, logger: createLogger('silent') });

  // Seed one resource to read, and measure creates.
  const seeded = await fetch(`${server.url}/Observation`, { method: 'POST', body: OBSERVATION, headers: { 'content-type': 'application/fhir+json' } });
  const { id } = (await seeded.json()) as { id: string };

  // The baseline: the same read as one SELECT over pg, no framework.
  const pool = new Pool({ connectionString: databaseUrl, max: 16 });
  const baseline = http.createServer(async (req, res) => {
    const rid = req.url!.split('/')[2];
    const r = await pool.query('select content, version_id from resource where resource_type = $1 and id = $2', ['Observation', rid]);
    res.writeHead(200, { 'content-type': 'application/fhir+json', etag: `W/"${r.rows[0].version_id}"` });
    res.end(r.rows[0].content);
  });
  await new Promise<void>((r) => baseline.listen(0, '127.0.0.1', r));
  const baselineUrl = `http://127.0.0.1:${(baseline.address() as { port: number }).port}`;

  const results: Record<string, Figures> = {};
  for (const connections of [1, 16]) {
    results[`create_c${connections}`] = await run({
      url: `${server.url}/Observation`,
      method: 'POST',
      body: OBSERVATION,
      headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
      connections,
    });
    results[`read_c${connections}`] = await run({ url: `${server.url}/Observation/${id}`, connections });
    results[`baselineRead_c${connections}`] = await run({ url: `${baselineUrl}/Observation/${id}`, connections });
  }
  const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;
  const report = {
    durationSecondsPerRun: DURATION,
    results,
    readVsBaseline_c1: ratio(results.read_c1.reqPerSec, results.baselineRead_c1.reqPerSec),
    readVsBaseline_c16: ratio(results.read_c16.reqPerSec, results.baselineRead_c16.reqPerSec),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);

  baseline.close();
  await pool.end();
  await server.close();
  const admin2 = new Client({ connectionString: ADMIN });
  await admin2.connect();
  await admin2.query(`drop database if exists ${dbName} with (force)`);
  await admin2.end();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
