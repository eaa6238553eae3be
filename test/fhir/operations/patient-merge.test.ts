// Patient/$merge (R5 patient-merge adapted to R4: https://build.fhir.org/patient-operation-merge.html)
// and Patient/$ihe-pix (IHE PIXm ITI-83) over HTTP.
import { generateEgn } from '../../../src/domain/identity/egn-generator';
import { startTestServer, TestServer } from '../../support/server';

const EGN = 'http://opennhis.org/fhir/sid/bg-egn';
const MRN = 'urn:oid:1.2.100.1';
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
}, 180_000);
afterAll(async () => {
  await s.close();
});

async function createPatient(egn: string, mrn: string, family = 'Dimitrov'): Promise<any> {
  const res = await s.fetch('/Patient', {
    method: 'POST',
    json: { resourceType: 'Patient', identifier: [{ system: EGN, value: egn }, { system: MRN, value: mrn }], name: [{ family, given: ['Ivan'] }], gender: 'male', birthDate: '1970-01-15' },
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** Merging is a registry write: the registry administrator's token. */
const asAdmin = () => ({ authorization: `Bearer ${s.tokens.registryAdmin}` });

function merge(sourceId: string, targetId: string, extra: Record<string, unknown>[] = []) {
  return s.fetch('/Patient/$merge', {
    method: 'POST',
    headers: asAdmin(),
    json: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'source-patient', valueReference: { reference: `Patient/${sourceId}` } },
        { name: 'target-patient', valueReference: { reference: `Patient/${targetId}` } },
        ...extra,
      ],
    },
  });
}

const q = (system: string, value: string) => encodeURIComponent(`${system}|${value}`);

test('merge: source inactive with replaced-by, target replaces and carries the source identifiers', async () => {
  const egnA = generateEgn('1970-01-15', 'male', 10);
  const egnB = generateEgn('1970-01-15', 'male', 11);
  const source = await createPatient(egnA, 'MRN-A');
  const target = await createPatient(egnB, 'MRN-B');
  // A clinical record of the source stays where it is.
  const obs = await s.fetch('/Observation', { method: 'POST', json: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${source.id}` } } });
  expect(obs.status).toBe(201);

  const res = await merge(source.id, target.id);
  expect(res.status).toBe(200);
  expect(res.body.resourceType).toBe('Parameters');
  const result = res.body.parameter.find((p: any) => p.name === 'result').resource;
  expect(result.id).toBe(target.id);
  expect(result.meta.versionId).toBe('2');
  expect(result.link).toEqual([{ other: { reference: `Patient/${source.id}` }, type: 'replaces' }]);
  expect(result.identifier).toEqual([
    { system: EGN, value: egnB },
    { system: MRN, value: 'MRN-B' },
    { system: EGN, value: egnA, use: 'old' },
    { system: MRN, value: 'MRN-A', use: 'old' },
  ]);

  // Reading the source: 200, inactive, pointing at the target; history kept.
  const read = await s.fetch(`/Patient/${source.id}`);
  expect(read.status).toBe(200);
  expect(read.body.active).toBe(false);
  expect(read.body.link).toEqual([{ other: { reference: `Patient/${target.id}` }, type: 'replaced-by' }]);
  expect(read.body.identifier).toEqual(source.identifier);
  expect((await s.fetch(`/Patient/${source.id}/_history/1`)).body.active).toBeUndefined();

  // Searching by the source's identifiers finds the target (and the inactive source); active=true only the target.
  const byEgn = await s.fetch(`/Patient?identifier=${q(EGN, egnA)}`);
  expect(byEgn.body.entry.map((e: any) => e.resource.id).sort()).toEqual([source.id, target.id].sort());
  const activeOnly = await s.fetch(`/Patient?identifier=${q(EGN, egnA)}&active=true`);
  expect(activeOnly.body.entry.map((e: any) => e.resource.id)).toEqual([target.id]);

  // The national id now belongs to the target: a new patient with it is a conflict naming the target.
  const clash = await s.fetch('/Patient', { method: 'POST', json: { resourceType: 'Patient', identifier: [{ system: EGN, value: egnA }] } });
  expect(clash.status).toBe(409);
  expect(clash.body.issue[0].diagnostics).toContain(`Patient/${target.id}`);

  // The Observation still points at the source (documented: clinical data is not rewritten).
  expect((await s.fetch(`/Observation/${obs.body.id}`)).body.subject.reference).toBe(`Patient/${source.id}`);

  // PIX by the old identifier lands on the target and lists its other identifiers.
  const pix = await s.fetch(`/Patient/$ihe-pix?sourceIdentifier=${q(EGN, egnA)}`);
  expect(pix.status).toBe(200);
  expect(pix.body.parameter.find((p: any) => p.name === 'targetId').valueReference.reference).toBe(`Patient/${target.id}`);

  // Merging again is refused: the source is inactive.
  const again = await merge(source.id, target.id);
  expect(again.status).toBe(422);
  expect(again.body.issue[0].expression).toEqual(['Parameters.parameter[0]']);
});

test('merge by identifier, preview writes nothing, bad input names the parameter', async () => {
  const egnA = generateEgn('1970-01-15', 'male', 20);
  const egnB = generateEgn('1970-01-15', 'male', 21);
  const source = await createPatient(egnA, 'MRN-C');
  const target = await createPatient(egnB, 'MRN-D');
  const byIdentifier = (preview: boolean) =>
    s.fetch('/Patient/$merge', {
      method: 'POST',
      headers: asAdmin(),
      json: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'source-patient-identifier', valueIdentifier: { system: EGN, value: egnA } },
          { name: 'target-patient-identifier', valueIdentifier: { system: EGN, value: egnB } },
          { name: 'preview', valueBoolean: preview },
        ],
      },
    });
  const preview = await byIdentifier(true);
  expect(preview.status).toBe(200);
  expect(preview.body.parameter.find((p: any) => p.name === 'result').resource.link[0].type).toBe('replaces');
  expect((await s.fetch(`/Patient/${source.id}`)).body.meta.versionId).toBe('1');
  expect((await byIdentifier(false)).status).toBe(200);
  expect((await s.fetch(`/Patient/${source.id}`)).body.active).toBe(false);

  expect((await merge(target.id, target.id)).status).toBe(400);
  const missing = await merge('no-such-patient', target.id);
  expect(missing.status).toBe(404);
  expect(missing.body.issue[0].expression).toEqual(['Parameters.parameter[0]']);
  const del = await merge(source.id, target.id, [{ name: 'delete-source', valueBoolean: true }]);
  expect(del.status).toBe(422);
  expect(del.body.issue[0].expression).toEqual(['Parameters.parameter[2]']);
});

test('$ihe-pix: cross-references, targetSystem filter, unknown 404, bad checksum 400', async () => {
  const egn = generateEgn('1990-06-01', 'female', 3);
  const p = await createPatient(egn, 'MRN-PIX', 'Koleva');
  const all = await s.fetch(`/Patient/$ihe-pix?sourceIdentifier=${q(MRN, 'MRN-PIX')}`);
  expect(all.status).toBe(200);
  expect(all.body).toEqual({
    resourceType: 'Parameters',
    parameter: [
      { name: 'targetIdentifier', valueIdentifier: { system: EGN, value: egn } },
      { name: 'targetId', valueReference: { reference: `Patient/${p.id}` } },
    ],
  });
  const filtered = await s.fetch(`/Patient/$ihe-pix?sourceIdentifier=${q(EGN, egn)}&targetSystem=${encodeURIComponent('urn:oid:9.9.9')}`);
  expect(filtered.body.parameter).toEqual([{ name: 'targetId', valueReference: { reference: `Patient/${p.id}` } }]);
  expect((await s.fetch(`/Patient/$ihe-pix?sourceIdentifier=${q(MRN, 'nobody')}`)).status).toBe(404);
  const bad = await s.fetch(`/Patient/$ihe-pix?sourceIdentifier=${q(EGN, '9006011234')}`);
  expect(bad.status).toBe(400);
  expect(bad.body.issue[0].expression).toEqual(['sourceIdentifier']);
  expect((await s.fetch('/Patient/$ihe-pix')).status).toBe(400);
});
