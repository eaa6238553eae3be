/**
 * Maps Synthea R4 transaction Bundles (third-party sample data) onto the
 * national model, so they load in REGISTRY_MODE=strict:
 *
 * - `hospitalInformation…` / `practitionerInformation…` become registry
 *   Bundles: Organizations with a national facility code and facility type,
 *   Practitioners with a national practitioner number, each a conditional
 *   create (`ifNoneExist` on the national code), submitted by the registry.
 * - a patient file becomes two Bundles: a registry Bundle with the Patient
 *   (plus a valid Bulgarian EGN derived from birth date and gender, check digit
 *   computed), and a clinical Bundle with everything else, whose references to
 *   the patient, organizations and practitioners are conditional references by
 *   national identifier (`Patient?identifier=…`), resolved by the server. The
 *   patient file's own copies of Organization/Practitioner are dropped:
 *   clinical submissions reference the registry, they do not populate it.
 *
 * Usage: node dist/scripts/convert-synthea.js [inputDir] [outputDir]
 * (defaults: $SYNTHEA_DIR, else ../shared/data/synthea, and ./synthea-national). Input files are
 * read where they are; nothing is copied into the repository.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { generateEgn } from '../src/domain/identity/egn-generator';
import { FACILITY_CODE_SYSTEM, FACILITY_TYPE_SYSTEM, PRACTITIONER_NUMBER_SYSTEM } from '../src/domain/registry/registry-systems';

export const EGN_SYSTEM = 'http://opennhis.org/fhir/sid/bg-egn';
const SYNTHEA_SYSTEM = 'https://github.com/synthetichealth/synthea';
const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';

type Json = Record<string, any>;
export interface SyntheaBundle {
  resourceType: 'Bundle';
  type: string;
  entry: { fullUrl: string; resource: Json; request?: Json }[];
}

export interface ConvertedPatient {
  egn: string;
  /** Patient only; submitted by the registry. */
  registry: SyntheaBundle;
  /** Clinical data referencing the registry by identifier. */
  clinical: SyntheaBundle;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** National facility code of a Synthea organization: stable, derived from its Synthea id. */
export function facilityCodeOf(org: Json): string {
  const id = (org.identifier ?? []).find((i: Json) => i.system === SYNTHEA_SYSTEM)?.value ?? org.id;
  return `SY${digest(String(id)).toString('hex').slice(0, 8).toUpperCase()}`;
}

/** National practitioner number of a Synthea practitioner: from its NPI. */
export function practitionerNumberOf(p: Json): string {
  const npi = (p.identifier ?? []).find((i: Json) => i.system === NPI_SYSTEM)?.value ?? p.id;
  return `SY${String(npi).padStart(10, '0')}`;
}

/** A valid EGN for the patient's birth date and gender; the serial comes from the Synthea id, so it is stable. */
export function egnOf(patient: Json): string {
  const gender = patient.gender === 'female' ? 'female' : 'male';
  return generateEgn(patient.birthDate, gender, digest(String(patient.id)).readUInt16BE(0) % 500);
}

function conditionalCreate(resource: Json, system: string, value: string): Bundle['entry'][number] {
  return {
    fullUrl: `urn:uuid:${resource.id}`,
    resource,
    request: { method: 'POST', url: resource.resourceType, ifNoneExist: `identifier=${system}|${value}` },
  };
}
type Bundle = SyntheaBundle;

function transaction(entry: Bundle['entry']): Bundle {
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

export function toNationalOrganization(org: Json): Json {
  const code = facilityCodeOf(org);
  return {
    ...org,
    identifier: [{ system: FACILITY_CODE_SYSTEM, value: code }, ...(org.identifier ?? [])],
    active: org.active ?? true,
    // Synthea providers are hospitals and clinics; the national type list has no "clinic", so hospital.
    type: [{ coding: [{ system: FACILITY_TYPE_SYSTEM, code: 'hospital', display: 'Hospital' }] }, ...(org.type ?? [])],
  };
}

export function toNationalPractitioner(p: Json): Json {
  return { ...p, identifier: [{ system: PRACTITIONER_NUMBER_SYSTEM, value: practitionerNumberOf(p) }, ...(p.identifier ?? [])], active: p.active ?? true };
}

/** hospitalInformation / practitionerInformation → a registry Bundle of conditional creates. */
export function convertRegistryBundle(bundle: Bundle): Bundle {
  return transaction(
    bundle.entry.flatMap((e) => {
      const r = e.resource;
      if (r.resourceType === 'Organization') return [conditionalCreate(toNationalOrganization(r), FACILITY_CODE_SYSTEM, facilityCodeOf(r))];
      if (r.resourceType === 'Practitioner') return [conditionalCreate(toNationalPractitioner(r), PRACTITIONER_NUMBER_SYSTEM, practitionerNumberOf(r))];
      return [];
    }),
  );
}

function rewrite(node: unknown, replace: (ref: string) => string | undefined): unknown {
  if (Array.isArray(node)) return node.map((n) => rewrite(n, replace));
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    out[k] = k === 'reference' && typeof v === 'string' ? (replace(v) ?? v) : rewrite(v, replace);
  }
  return out;
}

/** A patient file → the registry Bundle (Patient with EGN) and the clinical Bundle (by-identifier references). */
export function convertPatientBundle(bundle: Bundle): ConvertedPatient {
  const patientEntry = bundle.entry.find((e) => e.resource.resourceType === 'Patient');
  if (!patientEntry) throw new Error('The Synthea bundle has no Patient');
  const egn = egnOf(patientEntry.resource);
  const byIdentifier = new Map<string, string>();
  byIdentifier.set(patientEntry.fullUrl, `Patient?identifier=${EGN_SYSTEM}|${egn}`);
  for (const e of bundle.entry) {
    if (e.resource.resourceType === 'Organization') byIdentifier.set(e.fullUrl, `Organization?identifier=${FACILITY_CODE_SYSTEM}|${facilityCodeOf(e.resource)}`);
    if (e.resource.resourceType === 'Practitioner') byIdentifier.set(e.fullUrl, `Practitioner?identifier=${PRACTITIONER_NUMBER_SYSTEM}|${practitionerNumberOf(e.resource)}`);
  }
  const patient = { ...patientEntry.resource, identifier: [{ use: 'official', system: EGN_SYSTEM, value: egn }, ...(patientEntry.resource.identifier ?? [])] };
  const clinical = bundle.entry
    .filter((e) => !['Patient', 'Organization', 'Practitioner'].includes(e.resource.resourceType))
    .map((e) => ({ ...e, resource: rewrite(e.resource, (ref) => byIdentifier.get(ref)) as Json }));
  return { egn, registry: transaction([conditionalCreate(patient, EGN_SYSTEM, egn)]), clinical: transaction(clinical) };
}

export function readSyntheaFile(file: string): Bundle {
  const raw = fs.readFileSync(file);
  return JSON.parse((file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw).toString('utf8')) as Bundle;
}

function main(): void {
  const input = path.resolve(process.argv[2] ?? process.env.SYNTHEA_DIR ?? '../shared/data/synthea');
  const output = path.resolve(process.argv[3] ?? 'synthea-national');
  fs.mkdirSync(output, { recursive: true });
  const files = fs.readdirSync(input).filter((f) => /\.json(\.gz)?$/.test(f) && f !== 'manifest.json');
  // Registry files first: clinical bundles reference their entries.
  const registry = files.filter((f) => /^(hospital|practitioner)Information/.test(f));
  const patients = files.filter((f) => !registry.includes(f));
  const write = (name: string, b: Bundle) => fs.writeFileSync(path.join(output, name), JSON.stringify(b));
  registry.forEach((f, i) => write(`0-registry-${i}-${f.replace(/\.json(\.gz)?$/, '')}.json`, convertRegistryBundle(readSyntheaFile(path.join(input, f)))));
  for (const f of patients) {
    const base = f.replace(/\.json(\.gz)?$/, '');
    const converted = convertPatientBundle(readSyntheaFile(path.join(input, f)));
    write(`1-patient-${base}.json`, converted.registry);
    write(`2-clinical-${base}.json`, converted.clinical);
  }
  process.stdout.write(`Converted ${files.length} files into ${output}: submit 0-* and 1-* as the registry administrator, 2-* as a clinical client, in name order.\n`);
}

if (require.main === module) main();
