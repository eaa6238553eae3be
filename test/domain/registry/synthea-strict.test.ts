// Synthea bundles converted onto the national model load in REGISTRY_MODE=strict (issue 5 §5),
// through POST / transactions (https://hl7.org/fhir/R4/http.html#transaction).
import path from 'node:path';
import { convertPatientBundle, convertRegistryBundle, readSyntheaFile } from '../../../scripts/convert-synthea';
import { bgEgn } from '../../../src/shared/national-id/bg-egn';
import { startTestServer, TestServer } from '../../support/server';
import { SYNTHEA_DIR } from '../../support/synthea';

const SYNTHEA = SYNTHEA_DIR;
const REGISTRY_FILES = ['hospitalInformation1559319163815.json.gz', 'practitionerInformation1559319163815.json.gz'];
const PATIENT_FILES = ['Bill_Reinger_0bfeda65-c8ac-4dd7-a46c-d69e665996d4.json.gz', 'Dana_Feest_fc11f507-fd6d-4512-a77b-c997a24c5c10.json.gz'];

let s: TestServer;
beforeAll(async () => {
  // Profiles apply where claimed: this test is about registry strictness, not about mapping
  // Synthea's RxNorm prescriptions onto the ePrescription profile.
  s = await startTestServer({ env: { REGISTRY_MODE: 'strict', NATIONAL_PROFILES: 'claimed' } });
}, 180_000);
afterAll(async () => {
  await s.close();
}, 30_000);

const asRegistry = () => ({ authorization: `Bearer ${s.tokens.registryAdmin}`, prefer: 'return=minimal' });
const asHospital = () => ({ authorization: `Bearer ${s.tokens.hospital}`, prefer: 'return=minimal' });
const problems = (res: { status: number; body: any }) => `${res.status} ${JSON.stringify(res.body?.issue?.slice(0, 3) ?? res.body)}`;

test('registry files, then each patient (registry) and its clinical data (hospital) load in strict mode', async () => {
  for (const f of REGISTRY_FILES) {
    const res = await s.fetch('/', { method: 'POST', json: convertRegistryBundle(readSyntheaFile(path.join(SYNTHEA, f))), headers: asRegistry() });
    if (res.status !== 200) throw new Error(`${f}: ${problems(res)}`);
  }
  for (const f of PATIENT_FILES) {
    const converted = convertPatientBundle(readSyntheaFile(path.join(SYNTHEA, f)));
    expect(bgEgn.check(converted.egn).valid).toBe(true);
    const registry = await s.fetch('/', { method: 'POST', json: converted.registry, headers: asRegistry() });
    expect(registry.status).toBe(200);
    const clinical = await s.fetch('/', { method: 'POST', json: converted.clinical, headers: asHospital() });
    if (clinical.status !== 200) throw new Error(`${f}: ${problems(clinical)}`);
    expect(clinical.body.entry).toHaveLength(converted.clinical.entry.length);

    // References now point at registry entries by id.
    const patient = (await s.fetch(`/Patient?identifier=${encodeURIComponent(`http://opennhis.org/fhir/sid/bg-egn|${converted.egn}`)}`)).body.entry[0].resource;
    const encounters = await s.fetch(`/Encounter?subject=Patient/${patient.id}&_count=1`);
    const encounter = encounters.body.entry[0].resource;
    expect(encounter.serviceProvider.reference).toMatch(/^Organization\/[0-9a-f-]+$/);
    const org = await s.fetch(`/${encounter.serviceProvider.reference}`);
    expect(org.body.identifier[0].system).toBe('http://opennhis.org/fhir/sid/facility-code');
    expect(encounter.participant[0].individual.reference).toMatch(/^Practitioner\//);
  }
  // The registry was not grown by the clinical submissions: still one Organization per hospital entry.
  const orgs = await s.fetch('/Organization?_summary=count&_total=accurate');
  expect(orgs.body.total).toBe(readSyntheaFile(path.join(SYNTHEA, REGISTRY_FILES[0])).entry.length);
}, 180_000);

test('unconverted Synthea clinical data is refused in strict mode: it brings its own registry entries', async () => {
  const raw = readSyntheaFile(path.join(SYNTHEA, PATIENT_FILES[0]));
  const res = await s.fetch('/', { method: 'POST', json: raw, headers: asHospital() });
  expect(res.status).toBe(403);
  expect(res.text).toContain('registry-writes-admin-only');
}, 60_000);
