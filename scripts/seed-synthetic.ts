/**
 * Deterministic synthetic data for search benchmarks: patients with national-style
 * identifiers, encounters, conditions, observations (LOINC, valueQuantity) and
 * medication requests, written straight through the repository's bulk path and
 * the search engine's `indexResources` (multi-row inserts, `patientsPerTransaction`
 * patients per transaction; no validation: this is bench data, never clinical).
 *
 *   npm run build && DATABASE_URL=postgres://... node dist/scripts/seed-synthetic.js --patients 2000 [--seed 42]
 */
import { sql } from 'kysely';
import pino from 'pino';
import type { Db } from '../src/repository/db';
import { openDatabase } from '../src/repository/db';
import { migrateToLatest } from '../src/repository/migrate';
import { insertNewVersions } from '../src/repository/bulk-write';
import { inTransaction } from '../src/repository/transaction';
import { replaceIndexRowsMany } from '../src/repository/search-index';
import { extractIndexRows } from '../src/store/search/extract-index';
import { stringifyJson } from '../src/shared/json';
import { createPrng } from '../src/shared/prng';

export const NATIONAL_ID_SYSTEM = 'urn:oid:2.16.756.5.32';
export const LOINC = 'http://loinc.org';

const FAMILIES = ['Müller', 'Meier', 'Schmid', 'Keller', 'Weber', 'Huber', 'Schneider', 'Meyer', 'Steiner', 'Fischer', 'Gerber', 'Brunner', 'Baumann', 'Frei', 'Zimmermann', 'Moser', 'Widmer', 'Wyss', 'Graf', 'Roth', 'Dubois', 'Rossi', 'Bianchi', 'Lévy', 'Gonçalves'];
const GIVEN = ['Anna', 'Lukas', 'Léa', 'Noah', 'Mia', 'Luca', 'Emma', 'Elias', 'Zoë', 'Jonas', 'Chloé', 'Matteo', 'Lina', 'Leon', 'Sofia', 'Nino'];
const VITALS: [string, string, string, number, number][] = [
  ['8480-6', 'Systolic blood pressure', 'mm[Hg]', 95, 180],
  ['8462-4', 'Diastolic blood pressure', 'mm[Hg]', 55, 110],
  ['8867-4', 'Heart rate', '/min', 45, 140],
  ['29463-7', 'Body weight', 'kg', 40, 130],
  ['2339-0', 'Glucose', 'mg/dL', 60, 250],
];
const CONDITIONS: [string, string][] = [['44054006', 'Diabetes mellitus type 2'], ['38341003', 'Hypertension'], ['195967001', 'Asthma'], ['35489007', 'Depression']];
const MEDS: [string, string][] = [['860975', 'Metformin 500 MG'], ['197361', 'Amlodipine 5 MG'], ['745679', 'Salbutamol inhaler'], ['312938', 'Sertraline 50 MG']];

export interface SeedOptions {
  patients: number;
  seed?: number;
  /** Per patient. */
  observations?: number;
  /** Patients written per transaction (default 100). */
  patientsPerTransaction?: number;
}

/** Patient ids are `pat-<n>`; national identifiers `756.<13 digits>` derived from n. */
export function nationalIdOf(n: number): string {
  return `756.${String(1000000000 + n * 7919).padStart(13, '0')}`;
}

export async function seedSynthetic(db: Db, opts: SeedOptions): Promise<{ resources: number; ms: number }> {
  const rand = createPrng(opts.seed ?? 42);
  const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)];
  const started = Date.now();
  let resources = 0;
  const perObs = opts.observations ?? 20;
  const now = new Date('2026-01-01T00:00:00Z');
  const perTx = opts.patientsPerTransaction ?? 100;
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const stamped = batch.map((r) => ({ ...r, meta: { versionId: '1', lastUpdated: now.toISOString() } }) as unknown as { resourceType: string; id: string } & Record<string, unknown>);
    await inTransaction(db, async (tx) => {
      // Bench data: losing the last commits in a crash is fine, waiting for each flush is not.
      await sql`set local synchronous_commit = off`.execute(tx);
      const taken = await insertNewVersions(
        tx,
        stamped.map((r) => ({ resourceType: r.resourceType, id: r.id, versionId: 1, lastUpdated: now, deleted: false, content: stringifyJson(r), method: 'create' as const })),
      );
      const skip = new Set(taken);
      await replaceIndexRowsMany(tx, stamped.filter((r) => !skip.has(`${r.resourceType}/${r.id}`)).map((r) => ({ resourceType: r.resourceType, id: r.id, rows: extractIndexRows(r) })));
    });
    resources += batch.length;
    batch = [];
  };
  for (let n = 0; n < opts.patients; n++) {
    const pid = `pat-${n}`;
    batch.push({
      resourceType: 'Patient', id: pid, active: true, gender: rand() < 0.5 ? 'female' : 'male',
      birthDate: `${1930 + Math.floor(rand() * 90)}-${String(1 + Math.floor(rand() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}`,
      identifier: [{ system: NATIONAL_ID_SYSTEM, value: nationalIdOf(n) }],
      name: [{ family: pick(FAMILIES), given: [pick(GIVEN)] }],
      address: [{ city: pick(['Zürich', 'Genève', 'Bern', 'Lausanne', 'Lugano']), country: 'CH' }],
    });
    const encounters = 1 + Math.floor(rand() * 4);
    for (let e = 0; e < encounters; e++) {
      const start = new Date(Date.UTC(2018 + Math.floor(rand() * 8), Math.floor(rand() * 12), 1 + Math.floor(rand() * 28), 8 + Math.floor(rand() * 10)));
      batch.push({ resourceType: 'Encounter', id: `enc-${n}-${e}`, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${pid}` }, period: { start: start.toISOString(), end: new Date(start.getTime() + 3600000).toISOString() } });
    }
    const nCond = Math.floor(rand() * 3);
    for (let c = 0; c < nCond; c++) {
      const [code, display] = pick(CONDITIONS);
      batch.push({ resourceType: 'Condition', id: `cond-${n}-${c}`, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { coding: [{ system: 'http://snomed.info/sct', code, display }] }, subject: { reference: `Patient/${pid}` }, onsetDateTime: `${2010 + Math.floor(rand() * 15)}-06-01` });
    }
    for (let o = 0; o < perObs; o++) {
      const [code, display, unit, lo, hi] = pick(VITALS);
      const when = new Date(now.getTime() - Math.floor(rand() * 5 * 365 * 86400000));
      batch.push({ resourceType: 'Observation', id: `obs-${n}-${o}`, status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }], code: { coding: [{ system: LOINC, code, display }] }, subject: { reference: `Patient/${pid}` }, encounter: { reference: `Encounter/enc-${n}-0` }, effectiveDateTime: when.toISOString(), valueQuantity: { value: Math.round((lo + rand() * (hi - lo)) * 10) / 10, unit, system: 'http://unitsofmeasure.org', code: unit } });
    }
    const nMed = Math.floor(rand() * 3);
    for (let m = 0; m < nMed; m++) {
      const [code, display] = pick(MEDS);
      batch.push({ resourceType: 'MedicationRequest', id: `med-${n}-${m}`, status: rand() < 0.6 ? 'active' : 'completed', intent: 'order', medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code, display }] }, subject: { reference: `Patient/${pid}` }, authoredOn: `${2020 + Math.floor(rand() * 6)}-03-01` });
    }
    if ((n + 1) % perTx === 0) await flush();
  }
  await flush();
  return { resources, ms: Date.now() - started };
}

async function main(): Promise<void> {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is required');
  const handle = await openDatabase({ databaseUrl });
  await migrateToLatest(handle.db);
  const result = await seedSynthetic(handle.db, { patients: arg('--patients', 2000), seed: arg('--seed', 42) });
  console.log(JSON.stringify({ ...result, perResourceMs: +(result.ms / result.resources).toFixed(3) }));
  await handle.close();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
