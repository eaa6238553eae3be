/**
 * Core REST benchmark (issue 2): create/s and read-by-id req/s with p50/p99 at
 * concurrency 1 and 16 against PostgreSQL, and in the same run, side by side,
 * a bare baseline: plain node:http answering the same read with one SELECT
 * over pg, and the same create as JSON.parse + id/meta + one transaction
 * inserting the resource and history rows (no validation, search index,
 * audit, auth or rate limit).
 *
 *   npm run build && node dist/scripts/bench/core.js [--duration 4] [--rounds 3] [--concurrency 1,16]
 *
 * A third subject, the EXPRESS FLOOR, tells how much of the gap is the web framework the
 * stack prescribes (express 5) rather than the server's own work: an express app with one route
 * per operation doing exactly what the bare baseline does (no middleware, no auth, no audit).
 * `expressFloorOverBaseline` is then the best any express-based server could reach here.
 *
 * Each (operation, concurrency) runs server, baseline and floor in rotating order for
 * --rounds rounds of --duration seconds each (closed loop, see ./load.ts);
 * figures are medians over rounds and each ratio the median of the per-round
 * ratios, so that a shared, noisy machine affects both sides alike.
 *
 * The server requires a bearer token: the benchmark registers its own client
 * and sends its token on every request, to both servers (the baseline ignores
 * it). BENCH_RATE_LIMIT: requests/min per client (default 1000000: counted,
 * never refused; 0 turns the rate-limit counter off).
 *
 * Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres
 * as admin connection; a scratch database is created and dropped). Loopback only,
 * bounded in time, prints JSON.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Pool } from 'pg';
import { loadConfig } from '../../src/config/config';
import { startServer } from '../../src/server';
import { createLogger } from '../../src/shared/logger';
import { benchAuthorization, benchEnv } from './auth';
import { createScratchDatabase } from './scratch-db';
import express from 'express';
import { closeAgent, closedLoop, ratios, roundRobin, summarise, type LoadFigures, type RequestSpec } from './load';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const DURATION = Number(arg('--duration') ?? 4);
const ROUNDS = Number(arg('--rounds') ?? 3);
const CONCURRENCY = (arg('--concurrency') ?? '1,16').split(',').map(Number);

const OBSERVATION = JSON.stringify({
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
  subject: { reference: 'Patient/bench' },
  effectiveDateTime: '2026-01-02T10:00:00Z',
  valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
});

const brief = (f: LoadFigures) => ({ reqPerSec: f.reqPerSec, p50ms: f.p50ms, p99ms: f.p99ms, errors: f.errors });

async function main(): Promise<void> {
  const scratch = await createScratchDatabase('nhis_bench_core');
  try {
    await bench(scratch.url);
  } finally {
    // Also after a failure: drop ... with (force) ends the server's and the baseline's connections.
    await scratch.drop();
  }
}

async function bench(databaseUrl: string): Promise<void> {
  const config = loadConfig({ ...benchEnv(), PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', DB_POOL_SIZE: '16' });
  const server = await startServer({ config, logger: createLogger('silent') });
  const authorization = await benchAuthorization(server.db, config);

  // Seed one resource to read, and measure creates.
  const seeded = await fetch(`${server.url}/Observation`, { method: 'POST', body: OBSERVATION, headers: { 'content-type': 'application/fhir+json', authorization } });
  const seededBody = await seeded.text();
  if (seeded.status !== 201) throw new Error(`seeding the Observation failed with ${seeded.status}: ${seededBody}`);
  const { id } = JSON.parse(seededBody) as { id: string };

  // The baseline: the same read as one SELECT over pg, no framework.
  const pool = new Pool({ connectionString: databaseUrl, max: 16 });
  pool.on('error', () => undefined); // idle clients killed by the final drop database ... with (force)
  const baselineRead = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const rid = req.url!.split('/')[2];
    const r = await pool.query('select content, version_id from resource where resource_type = $1 and id = $2 and not deleted', ['Observation', rid]);
    if (r.rows.length === 0) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/fhir+json', etag: `W/"${r.rows[0].version_id}"` });
    res.end(r.rows[0].content);
  };
  // The equivalent create: parse, assign id and meta, insert the current and the history row in one transaction.
  const baselineCreate = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    let text: string;
    const parsed = (req as http.IncomingMessage & { body?: unknown }).body;
    if (Buffer.isBuffer(parsed)) text = parsed.toString('utf8'); // through express.raw (the floor)
    else {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    }
    const resource = JSON.parse(text) as Record<string, unknown>;
    const rid = randomUUID();
    const now = new Date();
    resource.id = rid;
    resource.meta = { versionId: '1', lastUpdated: now.toISOString() };
    const content = JSON.stringify(resource);
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query('insert into resource (resource_type, id, version_id, last_updated, deleted, content) values ($1, $2, 1, $3, false, $4)', [resource.resourceType, rid, now, content]);
      await client.query(`insert into resource_history (resource_type, id, version_id, last_updated, deleted, method, content) values ($1, $2, 1, $3, false, 'POST', $4)`, [resource.resourceType, rid, now, content]);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback');
      throw err;
    } finally {
      client.release();
    }
    res.writeHead(201, { location: `/${resource.resourceType}/${rid}/_history/1`, etag: 'W/"1"' }).end();
  };
  // The express floor: the same two handlers as express routes, nothing else.
  const floorApp = express();
  floorApp.get('/Observation/:id', (req, res, next) => {
    pool
      .query('select content, version_id from resource where resource_type = $1 and id = $2 and not deleted', ['Observation', req.params.id])
      .then((r) => {
        if (r.rows.length === 0) return void res.status(404).end();
        res.status(200).set({ 'content-type': 'application/fhir+json', etag: `W/"${r.rows[0].version_id}"` }).end(r.rows[0].content);
      }, next);
  });
  floorApp.post('/Observation', express.raw({ type: () => true, limit: '1mb' }), (req, res, next) => {
    baselineCreate(req, res).catch(next);
  });
  const floor = http.createServer(floorApp);
  await new Promise<void>((r) => floor.listen(0, '127.0.0.1', r));
  const floorUrl = `http://127.0.0.1:${(floor.address() as { port: number }).port}`;

  const baseline = http.createServer((req, res) => {
    (req.method === 'POST' ? baselineCreate(req, res) : baselineRead(req, res)).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(err.message);
    });
  });
  await new Promise<void>((r) => baseline.listen(0, '127.0.0.1', r));
  const baselineUrl = `http://127.0.0.1:${(baseline.address() as { port: number }).port}`;

  const serverUrl = server.url;
  const create: RequestSpec = {
    method: 'POST',
    path: '/Observation',
    body: OBSERVATION,
    headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal', authorization },
    expect: 201,
  };
  const read: RequestSpec = { path: `/Observation/${id}`, headers: { authorization }, expect: 200 };
  const results: Record<string, unknown> = {};
  const summary: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [op, spec] of [
    ['create', create],
    ['read', read],
  ] as const) {
    for (const c of CONCURRENCY) {
      const [subject, base, flo] = await roundRobin(ROUNDS, [
        () => closedLoop(serverUrl, () => spec, c, DURATION),
        () => closedLoop(baselineUrl, () => spec, c, DURATION),
        () => closedLoop(floorUrl, () => spec, c, DURATION),
      ]);
      const key = `${op}_c${c}`;
      const ours = summarise(subject);
      const theirs = summarise(base);
      const floors = summarise(flo);
      results[key] = { server: ours, baseline: theirs, expressFloor: floors, serverRounds: subject.map(brief), baselineRounds: base.map(brief), expressFloorRounds: flo.map(brief) };
      summary[key] = {
        serverReqPerSec: ours.reqPerSec,
        baselineReqPerSec: theirs.reqPerSec,
        expressFloorReqPerSec: floors.reqPerSec,
        serverP50ms: ours.p50ms,
        serverP99ms: ours.p99ms,
        baselineP50ms: theirs.p50ms,
        baselineP99ms: theirs.p99ms,
        expressFloorP50ms: floors.p50ms,
        serverOverBaseline: ratios(subject, base),
        expressFloorOverBaseline: ratios(flo, base),
        serverOverExpressFloor: ratios(subject, flo),
      };
      if (floors.errors) problems.push(`${key}: express floor ${floors.errors} errors (${floors.firstError ?? ''})`);
      if (ours.errors || theirs.errors) problems.push(`${key}: server ${ours.errors} errors${ours.firstError ? ` (${ours.firstError})` : ''}, baseline ${theirs.errors}${theirs.firstError ? ` (${theirs.firstError})` : ''}`);
      process.stderr.write(`${key}: server ${ours.reqPerSec} req/s, baseline ${theirs.reqPerSec} req/s, express floor ${floors.reqPerSec} req/s\n`);
    }
  }
  const report = {
    secondsPerRun: DURATION,
    rounds: ROUNDS,
    concurrency: CONCURRENCY,
    rateLimitPerMinute: config.rateLimitPerMinute,
    // serverOverBaseline: reqPerSec < 1 means the server is slower; latency ratios > 1 mean slower.
    summary,
    errors: problems,
    results,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);

  baseline.close();
  floor.close();
  closeAgent();
  await pool.end();
  await server.close();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
