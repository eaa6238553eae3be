/**
 * ePrescription benchmark (issue 7): prescribe → find → accept → close cycles/s
 * at concurrency 16 with 10,000 active prescriptions in the database, and
 * p50/p99 of each step. Beside it, a bare baseline: the same row work (insert,
 * select by number, compare-and-set, update + insert dispense) as plain
 * node-postgres transactions at the same concurrency; the two alternate in
 * rounds and the ratio is printed.
 *
 *   npm run -s build && node dist/scripts/bench/eprescription.js
 *
 * Env: BENCH_SECONDS (30, measured, per side), BENCH_ROUNDS (3), BENCH_CONCURRENCY (16),
 * BENCH_ACTIVE (10000), BENCH_WARMUP_SECONDS (3), BENCH_SEED_GROUP (5 prescriptions
 * per seeding $prescribe), BENCH_DB_POOL_SIZE (16), BENCH_DATABASE_URL (admin
 * connection, default postgres://postgres@127.0.0.1:5432/postgres; a scratch
 * database is created and dropped). Loopback only; progress on stderr, JSON on stdout.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { Client, Pool, type PoolClient } from 'pg';
import { CLIENT_ASSERTION_TYPE } from '../../src/auth/client-assertion';
import { ROLE_DEFAULT_SCOPES } from '../../src/auth/development-credentials';
import { loadConfig } from '../../src/config/config';
import { generateEgn } from '../../src/domain/identity/egn-generator';
import { PRESCRIPTION_NUMBER_SYSTEM } from '../../src/domain/prescription/prescription-number';
import { ATC_SYSTEM } from '../../src/domain/prescription/safety-warnings';
import { insertClient } from '../../src/repository/clients';
import type { Db } from '../../src/repository/db';
import { startServer } from '../../src/server';
import { bgEgn } from '../../src/shared/national-id/bg-egn';
import { createLogger } from '../../src/shared/logger';
import { createScratchDatabase } from './scratch-db';

const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${raw} must be a non-negative number`);
  return n;
};
const SECONDS = env('BENCH_SECONDS', 30);
const WARMUP_SECONDS = env('BENCH_WARMUP_SECONDS', 3);
const CONCURRENCY = Math.max(1, Math.floor(env('BENCH_CONCURRENCY', 16)));
const ACTIVE = Math.floor(env('BENCH_ACTIVE', 10_000));
const POOL_SIZE = Math.max(1, Math.floor(env('BENCH_DB_POOL_SIZE', 16)));
/** The measured time is split into rounds; server and baseline alternate. */
const ROUNDS = Math.max(1, Math.floor(env('BENCH_ROUNDS', 3)));
const SEED_CONCURRENCY = 8;
/** MedicationRequests per seeding $prescribe (a Bundle of one patient's prescriptions; 1 sends them one by one). */
const SEED_GROUP = Math.max(1, Math.floor(env('BENCH_SEED_GROUP', 5)));
/** Seeded prescriptions per patient (on average): safety warnings look at each patient's open prescriptions. */
const PER_PATIENT = 5;
const PRACTITIONERS = 50;
const PATIENTS_PER_BUNDLE = 50;
const PHARMACIES = ['PH001', 'PH002', 'PH003', 'PH004'];
const ATC_CODES = ['C09AA05', 'C10AA05', 'A10BA02', 'C07AB07', 'N02BE01', 'R03AC02', 'C03CA01', 'B01AC06', 'C03DA01', 'A02BC01'];
const STEPS = ['prescribe', 'find', 'accept', 'close'] as const;
type Step = (typeof STEPS)[number];

// ---------- shared helpers ----------

interface Latency {
  n: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
  meanMs: number;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

function latency(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : NaN);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  return { n: s.length, p50ms: round(at(0.5)), p99ms: round(at(0.99)), maxMs: round(at(1)), meanMs: round(mean) };
}

const log = (msg: string): void => {
  process.stderr.write(`[eprescription] ${msg}\n`);
};

/** Runs `fn` on `concurrency` loops until `more()` says stop; returns the wall time in ms. */
async function loops(concurrency: number, more: () => boolean, fn: (worker: number) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (more()) await fn(w);
    }),
  );
  return performance.now() - t0;
}

function medicationRequest(patientId: string, practitionerId: string, atc: string, today: string): Record<string, unknown> {
  return {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    requester: { reference: `Practitioner/${practitionerId}` },
    medicationCodeableConcept: { coding: [{ system: ATC_SYSTEM, code: atc }] },
    authoredOn: today,
    dosageInstruction: [{ text: '1 tablet daily' }],
    dispenseRequest: { quantity: { value: 30, unit: 'tablet' }, numberOfRepeatsAllowed: 0 },
  };
}

function dispense(atc: string): Record<string, unknown> {
  return { resourceType: 'MedicationDispense', status: 'completed', medicationCodeableConcept: { coding: [{ system: ATC_SYSTEM, code: atc }] }, quantity: { value: 30, unit: 'tablet' } };
}

// ---------- load generator (worker thread, so its fetch/JSON work does not share the server's event loop) ----------

type WorkerTask =
  | { kind: 'seed'; url: string; hospital: string; prescriber: string; active: number; group: number; concurrency: number }
  | { kind: 'cycles'; url: string; prescriber: string; pharmacies: string[]; patients: string[]; practitioners: string[]; concurrency: number; seconds: number; warmupSeconds: number };

interface Failures {
  count: number;
  byStatus: Record<string, number>;
  samples: string[];
}

interface SeedResult {
  patients: string[];
  practitioners: string[];
  registryMs: number;
  prescribeMs: number;
  prescribeLatency: Latency;
  warnings: number;
  failures: Failures;
}

/** One measured stretch: raw samples, so that rounds can be merged before taking percentiles. */
interface RawRun {
  cycles: number;
  elapsedMs: number;
  samples: Record<Step, number[]>;
  cycleSamples: number[];
  failures: Record<Step, Failures>;
}

interface Recorder {
  sample(step: Step, ms: number): void;
  fail(step: Step, status: number | string, text: string): void;
  /** The cycle completed: its time since the cycle began is recorded. */
  done(): void;
}

interface Reply {
  status: number;
  body: any;
  ms: number;
}

function newFailures(): Failures {
  return { count: 0, byStatus: {}, samples: [] };
}

function fail(f: Failures, status: number | string, text: string): void {
  f.count++;
  f.byStatus[status] = (f.byStatus[status] ?? 0) + 1;
  if (f.samples.length < 3) f.samples.push(`${status}: ${text.slice(0, 300)}`);
}

const failureCount = (r: RawRun): number => STEPS.reduce((n, s) => n + r.failures[s].count, 0);

/** `concurrency` loops running `cycle` until `seconds` have passed (a started cycle finishes); the wall time covers the last one. */
async function measure(concurrency: number, seconds: number, cycle: (worker: number, rec: Recorder) => Promise<void>): Promise<RawRun> {
  const r: RawRun = {
    cycles: 0,
    elapsedMs: 0,
    samples: { prescribe: [], find: [], accept: [], close: [] },
    cycleSamples: [],
    failures: { prescribe: newFailures(), find: newFailures(), accept: newFailures(), close: newFailures() },
  };
  const deadline = performance.now() + seconds * 1000;
  r.elapsedMs = await loops(concurrency, () => performance.now() < deadline, async (w) => {
    const c0 = performance.now();
    await cycle(w, {
      sample: (step, ms) => r.samples[step].push(ms),
      fail: (step, status, text) => fail(r.failures[step], status, text),
      done: () => {
        r.cycles++;
        r.cycleSamples.push(performance.now() - c0);
      },
    });
  });
  return r;
}

function mergeRuns(runs: RawRun[]): RawRun {
  const out: RawRun = {
    cycles: 0,
    elapsedMs: 0,
    samples: { prescribe: [], find: [], accept: [], close: [] },
    cycleSamples: [],
    failures: { prescribe: newFailures(), find: newFailures(), accept: newFailures(), close: newFailures() },
  };
  for (const r of runs) {
    out.cycles += r.cycles;
    out.elapsedMs += r.elapsedMs;
    out.cycleSamples.push(...r.cycleSamples);
    for (const s of STEPS) {
      out.samples[s].push(...r.samples[s]);
      const f = out.failures[s];
      f.count += r.failures[s].count;
      for (const [k, v] of Object.entries(r.failures[s].byStatus)) f.byStatus[k] = (f.byStatus[k] ?? 0) + v;
      f.samples.push(...r.failures[s].samples.slice(0, Math.max(0, 3 - f.samples.length)));
    }
  }
  return out;
}

async function call(url: string, method: string, path: string, token: string, body?: unknown): Promise<Reply> {
  const t0 = performance.now();
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, ms };
}

const describe = (r: Reply): string => (typeof r.body === 'string' ? r.body : JSON.stringify(r.body?.issue?.[0]?.diagnostics ?? r.body));

interface Prescribed {
  number: string;
  accessCode: string;
  taskId: string;
  medicationRequestId: string;
  warnings: number;
}

function prescribedItem(body: any): Prescribed {
  const parameter = (body?.parameter ?? []) as any[];
  const p = parameter.find((x) => x.name === 'prescription');
  const part = (n: string): any => p?.part?.find((x: any) => x.name === n);
  const outcome = parameter.find((x) => x.name === 'outcome')?.resource;
  return {
    number: part('prescriptionNumber')?.valueIdentifier?.value,
    accessCode: part('accessCode')?.valueString,
    taskId: part('task')?.resource?.id,
    medicationRequestId: part('medicationRequest')?.resource?.id,
    warnings: ((outcome?.issue ?? []) as { severity?: string }[]).filter((i) => i.severity === 'warning').length,
  };
}

const today = (): string => new Date().toISOString().slice(0, 10);

async function seed(t: Extract<WorkerTask, { kind: 'seed' }>): Promise<SeedResult> {
  const failures = newFailures();
  const bail = (): void => {
    if (failures.count > 50) throw new Error(`seeding failed: ${JSON.stringify(failures)}`);
  };
  const patientCount = Math.max(1, Math.ceil(t.active / PER_PATIENT));
  const patients: string[] = [];
  const practitioners: string[] = [];
  const r0 = performance.now();
  // Patients in transaction Bundles of PATIENTS_PER_BUNDLE (the registry is set-up, not measured).
  // `claimed` counts wanted successes (given back on a failure); `serial` only grows, so every attempt gets fresh identities.
  let claimed = 0;
  let serial = 0;
  await loops(t.concurrency, () => claimed < patientCount, async () => {
    const n = Math.min(PATIENTS_PER_BUNDLE, patientCount - claimed);
    claimed += n;
    const first = serial;
    serial += n;
    const entry = Array.from({ length: n }, (_, k) => {
      const i = first + k;
      // A distinct, checksum-valid EGN per patient: the date walks through years, months and days, the serial through 0..499.
      const birthDate = `${1940 + (i % 60)}-${String(1 + (Math.floor(i / 60) % 12)).padStart(2, '0')}-${String(1 + (Math.floor(i / 720) % 28)).padStart(2, '0')}`;
      const gender = i % 2 ? 'female' : 'male';
      const resource = { resourceType: 'Patient', identifier: [{ system: bgEgn.system, value: generateEgn(birthDate, gender, i % 500) }], name: [{ family: `Bench${i}`, given: ['Test'] }], gender, birthDate };
      return { resource, request: { method: 'POST', url: 'Patient' } };
    });
    const r = await call(t.url, 'POST', '/', t.hospital, { resourceType: 'Bundle', type: 'transaction', entry });
    const ids = r.status === 200 ? ((r.body?.entry ?? []) as { response?: { location?: string } }[]).map((e) => /^Patient\/([^/]+)/.exec(e.response?.location ?? '')?.[1]) : [];
    if (ids.length !== n || ids.some((id) => !id)) {
      fail(failures, r.status, describe(r));
      claimed -= n;
      return bail();
    }
    patients.push(...(ids as string[]));
  });
  claimed = 0;
  serial = 0;
  await loops(t.concurrency, () => claimed < PRACTITIONERS, async () => {
    claimed++;
    const i = serial++;
    const r = await call(t.url, 'POST', '/Practitioner', t.hospital, { resourceType: 'Practitioner', active: true, name: [{ family: `Doctor${i}` }] });
    if (r.status !== 201) {
      fail(failures, r.status, describe(r));
      claimed--;
      return bail();
    }
    practitioners.push(r.body.id);
  });
  const registryMs = performance.now() - r0;

  // One request per patient visit: a group of up to t.group MedicationRequests (distinct ATC codes) for one patient.
  const samples: number[] = [];
  claimed = 0;
  serial = 0;
  let warnings = 0;
  const day = today();
  const prescribeMs = await loops(t.concurrency, () => claimed < t.active, async () => {
    const n = Math.min(t.group, t.active - claimed);
    claimed += n;
    const i = serial++;
    const patient = patients[i % patients.length];
    const practitioner = practitioners[i % practitioners.length];
    const items = Array.from({ length: n }, (_, k) => medicationRequest(patient, practitioner, ATC_CODES[(Math.floor(i / patients.length) + i + k) % ATC_CODES.length], day));
    const body = n === 1 ? items[0] : { resourceType: 'Bundle', type: 'collection', entry: items.map((resource) => ({ resource })) };
    const r = await call(t.url, 'POST', '/MedicationRequest/$prescribe', t.prescriber, body);
    const issued = r.status === 200 ? ((r.body?.parameter ?? []) as { name: string }[]).filter((x) => x.name === 'prescription').length : 0;
    if (issued !== n) {
      fail(failures, r.status, describe(r));
      claimed -= n;
      return bail();
    }
    samples.push(r.ms);
    warnings += prescribedItem(r.body).warnings;
  });
  return { patients, practitioners, registryMs: round(registryMs, 0), prescribeMs: round(prescribeMs, 0), prescribeLatency: latency(samples), warnings, failures };
}

async function cycles(t: Extract<WorkerTask, { kind: 'cycles' }>): Promise<RawRun> {
  const day = today();
  const run = (seconds: number): Promise<RawRun> =>
    measure(t.concurrency, seconds, async (w, rec) => {
      const pharmacy = t.pharmacies[w % t.pharmacies.length];
      const atc = ATC_CODES[Math.floor(Math.random() * ATC_CODES.length)];
      const patient = t.patients[Math.floor(Math.random() * t.patients.length)];
      const practitioner = t.practitioners[Math.floor(Math.random() * t.practitioners.length)];

      const prescribed = await call(t.url, 'POST', '/MedicationRequest/$prescribe', t.prescriber, medicationRequest(patient, practitioner, atc, day));
      rec.sample('prescribe', prescribed.ms);
      if (prescribed.status !== 200) return rec.fail('prescribe', prescribed.status, describe(prescribed));
      const p = prescribedItem(prescribed.body);

      // The pharmacy knows the number and the access code only: it finds the MedicationRequest and, with it, the Task to claim.
      const identifier = encodeURIComponent(`${PRESCRIPTION_NUMBER_SYSTEM}|${p.number}`);
      const found = await call(t.url, 'GET', `/MedicationRequest?identifier=${identifier}&_revinclude=Task:focus`, pharmacy);
      rec.sample('find', found.ms);
      if (found.status !== 200) return rec.fail('find', found.status, describe(found));
      const entries = ((found.body?.entry ?? []) as { resource?: { resourceType?: string; id?: string } }[]).map((e) => e.resource);
      const mr = entries.find((r) => r?.resourceType === 'MedicationRequest');
      const task = entries.find((r) => r?.resourceType === 'Task');
      if (mr?.id !== p.medicationRequestId || task?.id !== p.taskId) {
        return rec.fail('find', 'mismatch', `expected MedicationRequest/${p.medicationRequestId} and Task/${p.taskId}, got ${JSON.stringify(entries.map((r) => `${r?.resourceType}/${r?.id}`))}`);
      }

      const accepted = await call(t.url, 'POST', `/Task/${task.id}/$accept?ac=${encodeURIComponent(p.accessCode)}`, pharmacy);
      rec.sample('accept', accepted.ms);
      if (accepted.status !== 200) return rec.fail('accept', accepted.status, describe(accepted));
      const secret = ((accepted.body?.parameter ?? []) as { name: string; valueString?: string }[]).find((x) => x.name === 'secret')?.valueString ?? '';

      const closed = await call(t.url, 'POST', `/Task/${task.id}/$close?secret=${encodeURIComponent(secret)}`, pharmacy, dispense(atc));
      rec.sample('close', closed.ms);
      if (closed.status !== 200) return rec.fail('close', closed.status, describe(closed));
      rec.done();
    });
  if (t.warmupSeconds > 0) {
    const warm = await run(t.warmupSeconds);
    if (failureCount(warm) > 0) throw new Error(`warm-up failed: ${JSON.stringify(warm.failures)}`);
  }
  return run(t.seconds);
}

function inWorker<T>(task: WorkerTask): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: task });
    let settled = false;
    w.once('message', (m: { ok: true; value: T } | { ok: false; error: string }) => {
      settled = true;
      if (m.ok) resolve(m.value);
      else reject(new Error(`load generator: ${m.error}`));
    });
    w.once('error', (err) => {
      settled = true;
      reject(err);
    });
    w.once('exit', (code) => {
      if (!settled) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

// ---------- tokens: a registered client per actor, its token from the real token endpoint over HTTP ----------

type ClientRole = keyof typeof ROLE_DEFAULT_SCOPES;

async function clientToken(db: Db, url: string, role: ClientRole, organization: string): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const kid = randomUUID();
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES384' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'ES384' };
  const id = `bench-${role}-${organization}-${randomUUID().slice(0, 8)}`;
  const scopes = ROLE_DEFAULT_SCOPES[role];
  const stored = await insertClient(
    db,
    { id, name: `Benchmark ${role} ${organization}`, role, organization, scopes, jwks: { keys: [publicJwk as unknown as Record<string, unknown>] }, active: true },
    new Date(),
  );
  if (!stored) throw new Error(`client ${id} exists`);
  const discovery = (await (await fetch(`${url}/.well-known/smart-configuration`)).json()) as { token_endpoint: string };
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ iss: id, sub: id, aud: discovery.token_endpoint, jti: randomUUID(), iat: now, exp: now + 60 })
    .setProtectedHeader({ alg: 'ES384', kid, typ: 'JWT' })
    .sign(await importJWK(privateJwk, 'ES384'));
  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion, scope: scopes.join(' ') }).toString(),
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`token request for ${id} failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

// ---------- the bare baseline: node-postgres transactions doing the same row work ----------

interface Baseline {
  seedMs: number;
  run(seconds: number): Promise<RawRun>;
  close(): Promise<void>;
}

/** Tables like the prescription row (plus the resource JSON in it) and a dispense table, with ACTIVE ready rows. */
async function createBaseline(databaseUrl: string): Promise<Baseline> {
  const pg = new Pool({ connectionString: databaseUrl, max: POOL_SIZE });
  // An idle connection cut by the final drop ... with (force) must not crash the process.
  pg.on('error', () => undefined);
  const s0 = performance.now();
  await pg.query(`create table bench_rx (
    task_id text primary key, medication_request_id text not null unique, number text not null unique, patient_id text not null,
    state text not null, access_code_hash text not null, claim_counter int not null default 0, owner_org text, lease_expires_at timestamptz,
    quantity_dispensed numeric not null default 0, content jsonb not null, created_at timestamptz not null, updated_at timestamptz not null)`);
  await pg.query(`create index bench_rx_patient_open on bench_rx (patient_id) where state in ('ready', 'in-progress')`);
  await pg.query('create table bench_dispense (id text primary key, task_id text not null, content jsonb not null, created_at timestamptz not null)');
  await pg.query('create sequence bench_rx_seq');
  const patients = Math.max(1, Math.ceil(ACTIVE / PER_PATIENT));
  await pg.query(
    `insert into bench_rx (task_id, medication_request_id, number, patient_id, state, access_code_hash, content, created_at, updated_at)
     select gen_random_uuid()::text, gen_random_uuid()::text, 'S' || nextval('bench_rx_seq'), 'p' || (g % $2), 'ready', md5(g::text), $3::jsonb, now(), now()
     from generate_series(1, $1) g`,
    [ACTIVE, patients, JSON.stringify(medicationRequest('p', 'd', ATC_CODES[0], today()))],
  );
  await pg.query('analyze bench_rx');
  const seedMs = round(performance.now() - s0, 0);

  const tx = async <T>(fn: (c: PoolClient) => Promise<T>): Promise<T> => {
    const c = await pg.connect();
    try {
      await c.query('begin');
      const out = await fn(c);
      await c.query('commit');
      return out;
    } catch (err) {
      await c.query('rollback');
      throw err;
    } finally {
      c.release();
    }
  };
  const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
  const day = today();
  const run = (seconds: number): Promise<RawRun> =>
    measure(CONCURRENCY, seconds, async (w, rec) => {
      const atc = ATC_CODES[Math.floor(Math.random() * ATC_CODES.length)];
      const patient = `p${Math.floor(Math.random() * patients)}`;
      const accessCode = randomBytes(16).toString('hex');
      const taskId = randomUUID();
      const mrId = randomUUID();

      let t0 = performance.now();
      const number = await tx(async (c) => {
        const n = `B${(await c.query<{ n: string }>(`select nextval('bench_rx_seq') as n`)).rows[0].n}`;
        const content = JSON.stringify({ ...medicationRequest(patient, 'd', atc, day), id: mrId, identifier: [{ system: PRESCRIPTION_NUMBER_SYSTEM, value: n }] });
        await c.query(
          `insert into bench_rx (task_id, medication_request_id, number, patient_id, state, access_code_hash, content, created_at, updated_at)
           values ($1, $2, $3, $4, 'ready', $5, $6, now(), now())`,
          [taskId, mrId, n, patient, sha256(accessCode), content],
        );
        return n;
      });
      rec.sample('prescribe', performance.now() - t0);

      t0 = performance.now();
      const found = await pg.query<{ task_id: string; content: unknown }>('select task_id, content from bench_rx where number = $1', [number]);
      rec.sample('find', performance.now() - t0);
      if (found.rows[0]?.task_id !== taskId) return rec.fail('find', 'mismatch', number);

      t0 = performance.now();
      const claimed = await tx((c) =>
        c.query<{ claim_counter: number }>(
          `update bench_rx set state = 'in-progress', owner_org = $3, lease_expires_at = now() + interval '30 minutes', claim_counter = claim_counter + 1, updated_at = now()
           where task_id = $1 and access_code_hash = $2 and state = 'ready' returning claim_counter`,
          [taskId, sha256(accessCode), PHARMACIES[w % PHARMACIES.length]],
        ),
      );
      rec.sample('accept', performance.now() - t0);
      if (claimed.rowCount !== 1) return rec.fail('accept', 'no-row', taskId);

      t0 = performance.now();
      const closed = await tx(async (c) => {
        const r = await c.query(
          `update bench_rx set state = 'completed', quantity_dispensed = quantity_dispensed + 30, owner_org = null, lease_expires_at = null,
             claim_counter = claim_counter + 1, updated_at = now()
           where task_id = $1 and state = 'in-progress' and claim_counter = $2 and lease_expires_at > now()`,
          [taskId, claimed.rows[0].claim_counter],
        );
        if (r.rowCount === 1) await c.query('insert into bench_dispense (id, task_id, content, created_at) values ($1, $2, $3, now())', [randomUUID(), taskId, JSON.stringify(dispense(atc))]);
        return r.rowCount === 1;
      });
      rec.sample('close', performance.now() - t0);
      if (!closed) return rec.fail('close', 'no-row', taskId);
      rec.done();
    });
  return { seedMs, run, close: () => pg.end() };
}

// ---------- the run ----------

async function stateCounts(databaseUrl: string): Promise<Record<string, number>> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ state: string; n: string }>('select state, count(*) as n from prescription group by state order by state');
    return Object.fromEntries(r.rows.map((x) => [x.state, Number(x.n)]));
  } finally {
    await c.end();
  }
}

const perSecond = (r: RawRun): number => round(r.cycles / (r.elapsedMs / 1000), 1);

function summarize(r: RawRun) {
  return {
    cycles: r.cycles,
    cyclesPerSecond: perSecond(r),
    steps: Object.fromEntries(STEPS.map((s) => [s, latency(r.samples[s])])) as Record<Step, Latency>,
    cycle: latency(r.cycleSamples),
    failures: failureCount(r) ? r.failures : 0,
  };
}

async function bench(databaseUrl: string): Promise<void> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    DB_POOL_SIZE: String(POOL_SIZE),
    TOKEN_TTL_SECONDS: '900',
    // Counted like any client's requests, never refused.
    RATE_LIMIT_PER_MINUTE: '1000000',
    DEVELOPMENT_CREDENTIALS: 'off',
  });
  const server = await startServer({ config, logger: createLogger('silent') });
  let base: Baseline | undefined;
  try {
    const hospital = await clientToken(server.db, server.url, 'hospital', 'HOSP01');
    const prescriber = await clientToken(server.db, server.url, 'prescriber', 'HOSP01');
    const pharmacies: string[] = [];
    for (const org of PHARMACIES) pharmacies.push(await clientToken(server.db, server.url, 'pharmacy', org));

    log(`seeding ${ACTIVE} active prescriptions with $prescribe over HTTP (${SEED_GROUP} per request) at concurrency ${SEED_CONCURRENCY} ...`);
    const seed = await inWorker<SeedResult>({ kind: 'seed', url: server.url, hospital, prescriber, active: ACTIVE, group: SEED_GROUP, concurrency: SEED_CONCURRENCY });
    const statesAfterSeeding = await stateCounts(databaseUrl);
    log(
      `seeded: ${seed.patients.length} patients and ${seed.practitioners.length} practitioners in ${seed.registryMs} ms; ` +
        `${ACTIVE} prescriptions in ${seed.prescribeMs} ms (${round(ACTIVE / (seed.prescribeMs / 1000), 1)}/s); states ${JSON.stringify(statesAfterSeeding)}`,
    );
    base = await createBaseline(databaseUrl);

    // Server and baseline take turns, so that a change in the machine's background load touches both.
    const slice = SECONDS / ROUNDS;
    const serverRuns: RawRun[] = [];
    const baseRuns: RawRun[] = [];
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      const warmup = round_ === 0 ? WARMUP_SECONDS : 0;
      const cycleTask: WorkerTask = { kind: 'cycles', url: server.url, prescriber, pharmacies, patients: seed.patients, practitioners: seed.practitioners, concurrency: CONCURRENCY, seconds: slice, warmupSeconds: warmup };
      const s = await inWorker<RawRun>(cycleTask);
      serverRuns.push(s);
      if (warmup > 0) await base.run(warmup);
      const b = await base.run(slice);
      baseRuns.push(b);
      log(`round ${round_ + 1}/${ROUNDS}: server ${perSecond(s)} cycles/s (${failureCount(s)} failures), baseline ${perSecond(b)} cycles/s (${failureCount(b)} failures)`);
    }
    const statesAfterRun = await stateCounts(databaseUrl);
    const srv = summarize(mergeRuns(serverRuns));
    const bl = summarize(mergeRuns(baseRuns));
    const report = {
      config: {
        seconds: SECONDS,
        rounds: ROUNDS,
        warmupSeconds: WARMUP_SECONDS,
        concurrency: CONCURRENCY,
        activePrescriptions: ACTIVE,
        dbPoolSize: POOL_SIZE,
        pharmacies: PHARMACIES.length,
        patients: seed.patients.length,
        findQuery: 'GET /MedicationRequest?identifier=<system>|<number>&_revinclude=Task:focus',
      },
      seeding: {
        method: `$prescribe over HTTP, ${SEED_GROUP} MedicationRequest(s) of one patient per request, concurrency ${SEED_CONCURRENCY}`,
        registryMs: seed.registryMs,
        prescriptionsMs: seed.prescribeMs,
        prescriptionsPerSecond: round(ACTIVE / (seed.prescribeMs / 1000), 1),
        requestLatency: seed.prescribeLatency,
        safetyWarnings: seed.warnings,
        failures: seed.failures.count ? seed.failures : 0,
        statesAfterSeeding,
      },
      server: { ...srv, acceptP99ms: srv.steps.accept.p99ms, perRound: serverRuns.map(perSecond), statesAfterRun },
      baseline: {
        what: 'node-postgres, no HTTP: tx(nextval + insert row) / select by number / tx(compare-and-set update) / tx(update + insert dispense row)',
        seedMs: base.seedMs,
        ...bl,
        perRound: baseRuns.map(perSecond),
      },
      // Server over baseline: cyclesPerSecond < 1 is slower; latency ratios > 1 are slower.
      ratio: {
        cyclesPerSecond: round(srv.cyclesPerSecond / bl.cyclesPerSecond, 3),
        perRound: serverRuns.map((s, i) => round(perSecond(s) / perSecond(baseRuns[i]), 3)),
        ...Object.fromEntries(STEPS.map((s) => [`${s}P50`, round(srv.steps[s].p50ms / bl.steps[s].p50ms, 1)])),
        acceptP99: round(srv.steps.accept.p99ms / bl.steps.accept.p99ms, 1),
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await base?.close();
    await server.close();
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const scratch = await createScratchDatabase('nhis_bench_rx');
  try {
    await bench(scratch.url);
  } finally {
    // Also after a failure: with (force) ends any connection left behind.
    await scratch.drop();
    log(`done in ${round((performance.now() - t0) / 1000, 1)} s`);
  }
}

if (isMainThread) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
} else {
  const task = workerData as WorkerTask;
  (task.kind === 'seed' ? seed(task) : cycles(task)).then(
    (value) => parentPort!.postMessage({ ok: true, value }),
    (err: Error) => parentPort!.postMessage({ ok: false, error: err.stack ?? String(err) }),
  );
}
