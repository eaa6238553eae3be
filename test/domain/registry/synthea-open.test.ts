// Third-party data loads as it is in REGISTRY_MODE=open (issue 13): transaction Bundles
// (https://hl7.org/fhir/R4/http.html#transaction) whose history includes records written
// hours before a patient's death on the same day. The registry rule compares instants:
// a record dated at or before the death is history, not a new order.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Client } from 'pg';
import { startTestServer, TestServer } from '../../support/server';
import { SYNTHEA_DIR } from '../../support/synthea';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ env: { REGISTRY_MODE: 'open' } });
}, 60_000);
afterAll(async () => {
  await s.close();
}, 30_000);

const asRegistry = () => ({ authorization: `Bearer ${s.tokens.registryAdmin}`, prefer: 'return=minimal' });
const problems = (res: { status: number; body: any }) => `${res.status} ${JSON.stringify(res.body?.issue?.slice(0, 3) ?? res.body)}`;

/** Every literal `Type/id` reference in the stored, current resources that does not name a stored resource. */
async function danglingReferences(): Promise<string[]> {
  const c = new Client({ connectionString: s.database!.url });
  await c.connect();
  try {
    const { rows } = await c.query<{ resource_type: string; id: string; content: string }>('select resource_type, id, content from resource where not deleted');
    const stored = new Set(rows.map((r) => `${r.resource_type}/${r.id}`));
    const dangling: string[] = [];
    for (const r of rows) {
      for (const m of r.content.matchAll(/"reference":"([^"#][^"]*)"/g)) {
        if (!stored.has(m[1])) dangling.push(`${r.resource_type}/${r.id} -> ${m[1]}`);
      }
    }
    return dangling;
  } finally {
    await c.end();
  }
}

function patientDiedAt(died: string) {
  return {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:1.2.3.4.5', value: `hand-${died}` }],
    name: [{ family: 'Ivanova' }],
    gender: 'female',
    birthDate: '1940-03-01',
    deceasedDateTime: died,
  };
}

function prescription(subject: string, authoredOn: string) {
  return {
    resourceType: 'MedicationRequest',
    status: 'stopped',
    intent: 'order',
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '313782' }], text: 'Acetaminophen 325 MG' },
    subject: { reference: subject },
    authoredOn,
  };
}

const post = (fullUrl: string, resource: Record<string, unknown>) => ({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType } });

test('a handcrafted history: a prescription written hours before the death, that same day, loads; one after the death is refused', async () => {
  const patient = 'urn:uuid:3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
  const history = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [post(patient, patientDiedAt('2020-03-14T18:30:00+01:00')), post('urn:uuid:4a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', prescription(patient, '2020-03-14T09:15:00+01:00'))],
  };
  const res = await s.fetch('/', { method: 'POST', json: history, headers: { prefer: 'return=minimal' } });
  expect(problems(res)).toMatch(/^200 /);

  // Same day, after the death (in another zone: 17:45Z is 18:45+01:00): a new order for a deceased patient.
  const stored = res.body.entry[0].response.location.replace(/\/_history\/\d+$/, '');
  const late = await s.fetch('/MedicationRequest', { method: 'POST', json: prescription(stored, '2020-03-14T17:45:00Z') });
  expect(late.status).toBe(422);
  expect(late.body.issue.map((i: any) => i.details?.coding?.[0]?.code ?? i.code)).toContain('NHIS-3210');
}, 60_000);

const manifestPath = path.join(SYNTHEA_DIR, 'manifest.json');
const syntheaTest = fs.existsSync(manifestPath) ? test : test.skip;

syntheaTest('every Synthea bundle in the shared folder loads as it is, and every stored reference resolves', async () => {
  const files = (JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { files: { file: string }[] }).files.map((f) => f.file);
  // Registry bundles first: the patient bundles' Encounters reference their Organizations and Practitioners.
  files.sort((a, b) => Number(/^(hospital|practitioner)/.test(b)) - Number(/^(hospital|practitioner)/.test(a)));
  const failures: string[] = [];
  for (const f of files) {
    const bundle = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(SYNTHEA_DIR, f))).toString('utf8'));
    const registryFile = /^(hospital|practitioner)/.test(f);
    const res = await s.fetch('/', { method: 'POST', json: bundle, headers: registryFile ? asRegistry() : { prefer: 'return=minimal' } });
    if (res.status !== 200) failures.push(`${f}: ${problems(res)}`);
  }
  expect(failures).toEqual([]);
  expect(await danglingReferences()).toEqual([]);
}, 300_000);
