// Registry-aware writes (issue 5 §5): clinical references resolve to active registry entries, 422 naming the element.
import { generateEgn } from '../../../src/domain/identity/egn-generator';
import { startTestServer, TestServer } from '../../support/server';

const EGN = 'http://opennhis.org/fhir/sid/bg-egn';
const FACILITY = 'http://opennhis.org/fhir/sid/facility-code';
const PRACTITIONER = 'http://opennhis.org/fhir/sid/practitioner-number';
const FACILITY_TYPE = 'http://opennhis.org/fhir/CodeSystem/facility-type';
const TEMPORARY = 'http://opennhis.org/fhir/sid/temporary';

const REGISTRY = new Set(['Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Location']);

/** Registry entries are written by the registry administrator; clinical data by the hospital client. */
async function post(s: TestServer, resource: Record<string, unknown>): Promise<any> {
  const headers = REGISTRY.has(String(resource.resourceType)) ? { authorization: `Bearer ${s.tokens.registryAdmin}` } : undefined;
  const res = await s.fetch(`/${resource.resourceType}`, { method: 'POST', json: resource, headers });
  if (res.status !== 201) throw new Error(`${resource.resourceType}: ${res.status} ${res.text}`);
  return res.body;
}

function organization(code: string, type: string, extra: Record<string, unknown> = {}) {
  return { resourceType: 'Organization', identifier: [{ system: FACILITY, value: code }], active: true, type: [{ coding: [{ system: FACILITY_TYPE, code: type }] }], name: `Facility ${code}`, ...extra };
}

function medicationRequest(extra: Record<string, unknown>) {
  return { resourceType: 'MedicationRequest', status: 'active', intent: 'plan', medicationCodeableConcept: { text: 'Amoxicillin 500 mg' }, authoredOn: '2026-03-01', ...extra };
}

describe('REGISTRY_MODE=strict', () => {
  let s: TestServer;
  const r: Record<string, any> = {};
  beforeAll(async () => {
    // Profiles off: this suite tests the registry step alone (profiles and the ePrescription workflow have their own tests).
    s = await startTestServer({ env: { REGISTRY_MODE: 'strict', NATIONAL_PROFILES: 'off' } });
    r.hospital = await post(s, organization('H-0001', 'hospital'));
    r.pharmacy = await post(s, organization('P-0001', 'pharmacy'));
    r.closed = await post(s, organization('H-0002', 'hospital', { active: false }));
    r.doctor = await post(s, { resourceType: 'Practitioner', identifier: [{ system: PRACTITIONER, value: '1000001' }], active: true, name: [{ family: 'Stoyanov' }] });
    r.retired = await post(s, { resourceType: 'Practitioner', identifier: [{ system: PRACTITIONER, value: '1000002' }], active: false, name: [{ family: 'Old' }] });
    r.role = await post(s, {
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: { reference: `Practitioner/${r.doctor.id}` },
      organization: { reference: `Organization/${r.hospital.id}` },
      period: { start: '2020-01-01', end: '2026-12-31' },
    });
    r.patient = await post(s, { resourceType: 'Patient', identifier: [{ system: EGN, value: generateEgn('1960-05-05', 'male', 4) }], name: [{ family: 'Todorov' }] });
    r.dead = await post(s, { resourceType: 'Patient', identifier: [{ system: EGN, value: generateEgn('1930-05-05', 'male', 4) }], deceasedDateTime: '2025-01-01' });
  }, 180_000);
  afterAll(async () => {
    await s.close();
  });

  test('resolving references by id and by identifier are accepted; unreferencing data too', async () => {
    const ok = await s.fetch('/MedicationRequest', {
      method: 'POST',
      json: medicationRequest({
        subject: { identifier: { system: EGN, value: r.patient.identifier[0].value } },
        requester: { reference: `PractitionerRole/${r.role.id}` },
        performer: { type: 'Organization', identifier: { system: FACILITY, value: 'P-0001' } },
      }),
    });
    expect(ok.status).toBe(201);
    expect((await s.fetch('/Observation', { method: 'POST', json: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } })).status).toBe(201);
  });

  test('a dangling, unknown-identifier or inactive reference is 422 naming the element', async () => {
    const dangling = await s.fetch('/MedicationRequest', { method: 'POST', json: medicationRequest({ subject: { reference: 'Patient/nope' } }) });
    expect(dangling.status).toBe(422);
    expect(dangling.body.issue).toEqual([
      expect.objectContaining({ code: 'not-found', expression: ['MedicationRequest.subject'], details: expect.objectContaining({ coding: [expect.objectContaining({ code: 'NHIS-3201' })] }) }),
    ]);
    const unknownId = await s.fetch('/Encounter', {
      method: 'POST',
      json: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${r.patient.id}` }, participant: [{ individual: { identifier: { system: PRACTITIONER, value: '9999999' } } }] },
    });
    expect(unknownId.status).toBe(422);
    expect(unknownId.body.issue[0].expression).toEqual(['Encounter.participant[0].individual']);
    const inactive = await s.fetch('/MedicationRequest', {
      method: 'POST',
      json: medicationRequest({ subject: { reference: `Patient/${r.patient.id}` }, requester: { reference: `Practitioner/${r.retired.id}` }, performer: { reference: `Organization/${r.closed.id}` } }),
    });
    expect(inactive.status).toBe(422);
    expect(inactive.body.issue.map((i: any) => i.expression[0])).toEqual(['MedicationRequest.requester', 'MedicationRequest.performer']);
    expect(inactive.body.issue[0].diagnostics).toMatch(/inactive/);
  });

  test('a merged patient is refused with a pointer to the surviving record', async () => {
    const other = await post(s, { resourceType: 'Patient', identifier: [{ system: EGN, value: generateEgn('1961-05-05', 'male', 4) }] });
    const merged = await s.fetch('/Patient/$merge', {
      method: 'POST',
      headers: { authorization: `Bearer ${s.tokens.registryAdmin}` },
      json: { resourceType: 'Parameters', parameter: [{ name: 'source-patient', valueReference: { reference: `Patient/${other.id}` } }, { name: 'target-patient', valueReference: { reference: `Patient/${r.patient.id}` } }] },
    });
    expect(merged.status).toBe(200);
    const res = await s.fetch('/Observation', { method: 'POST', json: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${other.id}` } } });
    expect(res.status).toBe(422);
    expect(res.body.issue[0].diagnostics).toContain(`merged into Patient/${r.patient.id}`);
    // By the old identifier the reference resolves to the survivor.
    const byOldId = await s.fetch('/Observation', { method: 'POST', json: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { identifier: { system: EGN, value: other.identifier[0].value } } } });
    expect(byOldId.status).toBe(201);
  });

  test('consistency rules: deceased patient, prescriber role period, pharmacy-only dispensing', async () => {
    const dead = await s.fetch('/MedicationRequest', { method: 'POST', json: medicationRequest({ subject: { reference: `Patient/${r.dead.id}` } }) });
    expect(dead.status).toBe(422);
    expect(dead.body.issue[0]).toMatchObject({ code: 'business-rule', expression: ['MedicationRequest.subject'] });
    expect(dead.body.issue[0].diagnostics).toMatch(/deceased/);
    const lateRole = await s.fetch('/MedicationRequest', {
      method: 'POST',
      json: medicationRequest({ subject: { reference: `Patient/${r.patient.id}` }, requester: { reference: `PractitionerRole/${r.role.id}` }, authoredOn: '2027-02-01' }),
    });
    expect(lateRole.status).toBe(422);
    expect(lateRole.body.issue[0].expression).toEqual(['MedicationRequest.requester']);
    const dispense = (org: string) => ({
      resourceType: 'MedicationDispense',
      status: 'completed',
      medicationCodeableConcept: { text: 'Amoxicillin 500 mg' },
      subject: { reference: `Patient/${r.patient.id}` },
      performer: [{ actor: { reference: `Organization/${org}` } }],
    });
    const notPharmacy = await s.fetch('/MedicationDispense', { method: 'POST', json: dispense(r.hospital.id) });
    expect(notPharmacy.status).toBe(422);
    expect(notPharmacy.body.issue[0].expression).toEqual(['MedicationDispense.performer[0].actor']);
    expect(notPharmacy.body.issue[0].diagnostics).toMatch(/not a pharmacy/);
    expect((await s.fetch('/MedicationDispense', { method: 'POST', json: dispense(r.pharmacy.id) })).status).toBe(201);
  });
});

describe('REGISTRY_MODE=open', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ env: { REGISTRY_MODE: 'open' } });
  }, 180_000);
  afterAll(async () => {
    await s.close();
  });

  test('dangling references are still 422; references into the same transaction resolve', async () => {
    const dangling = await s.fetch('/Observation', { method: 'POST', json: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, performer: [{ reference: 'Organization/none' }] } });
    expect(dangling.status).toBe(422);
    expect(dangling.body.issue[0].expression).toEqual(['Observation.performer[0]']);
    const org = 'urn:uuid:0a0a0a0a-0000-4000-8000-000000000001';
    const pat = 'urn:uuid:0a0a0a0a-0000-4000-8000-000000000002';
    const txn = await s.fetch('/', {
      method: 'POST',
      json: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: org, resource: organization('H-0100', 'hospital'), request: { method: 'POST', url: 'Organization' } },
          { fullUrl: pat, resource: { resourceType: 'Patient', name: [{ family: 'Newborn' }] }, request: { method: 'POST', url: 'Patient' } },
          { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: pat }, performer: [{ reference: org }] }, request: { method: 'POST', url: 'Observation' } },
        ],
      },
    });
    expect(txn.status).toBe(200);
  });

  test('a patient without a national id gets a temporary identifier', async () => {
    const p = await post(s, { resourceType: 'Patient', name: [{ text: 'Unknown newborn' }] });
    expect(p.identifier).toEqual([{ use: 'temp', system: TEMPORARY, value: expect.stringMatching(/^T-/) }]);
    const found = await s.fetch(`/Patient?identifier=${encodeURIComponent(`${TEMPORARY}|${p.identifier[0].value}`)}`);
    expect(found.body.entry.map((e: any) => e.resource.id)).toEqual([p.id]);
  });
});
