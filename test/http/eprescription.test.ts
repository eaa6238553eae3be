// ePrescription over HTTP with real tokens: each role reaches exactly its part of the workflow.
import { PRESCRIPTION_NUMBER_SYSTEM } from '../../src/domain/prescription/prescription-number';
import { EPRESCRIPTION_PROFILE } from '../../src/domain/prescription/prescribe';
import { ACCESS_CODE_EXTENSION, TASK_EXTENSION } from '../../src/fhir/operations/prescription-prescribe';
import { BG_EGN_SYSTEM, validEgn } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';
import { buildDispense, buildMedicationRequest, param, prescribedItems } from '../domain/prescription/prescription-setup';

let s: TestServer;
const token: Record<string, string> = {};

beforeAll(async () => {
  s = await startTestServer();
  token.prescriber = await s.clientToken({ role: 'prescriber', organization: 'HOSP01' });
  token.pharmacyA = await s.clientToken({ role: 'pharmacy', organization: 'PH001' });
  token.pharmacyB = await s.clientToken({ role: 'pharmacy', organization: 'PH002' });
  token.auditor = await s.clientToken({ role: 'auditor' });
  token.analyst = await s.clientToken({ role: 'analyst' });
}, 180_000);
afterAll(async () => {
  await s?.close();
});

const as = (who: string) => ({ authorization: `Bearer ${token[who]}` });

async function seed(): Promise<{ patientId: string; practitionerId: string; egn: string }> {
  const egn = validEgn();
  const patient = await s.fetch('/Patient', { method: 'POST', json: { resourceType: 'Patient', identifier: [{ system: BG_EGN_SYSTEM, value: egn }], name: [{ family: 'Georgieva' }], gender: 'female', birthDate: '1975-05-05' } });
  expect(patient.status).toBe(201);
  const practitioner = await s.fetch('/Practitioner', { method: 'POST', json: { resourceType: 'Practitioner', name: [{ family: 'Petrov' }] } });
  expect(practitioner.status).toBe(201);
  return { patientId: patient.body.id, practitionerId: practitioner.body.id, egn };
}

test('prescriber prescribes, pharmacies find it, exactly one of two simultaneous claims wins, the winner closes it', async () => {
  const { patientId, practitionerId, egn } = await seed();
  const prescribed = await s.fetch('/MedicationRequest/$prescribe', { method: 'POST', headers: as('prescriber'), json: buildMedicationRequest(patientId, practitionerId) });
  expect(prescribed.status).toBe(200);
  const [p] = prescribedItems(prescribed.body);

  const byNumber = await s.fetch(`/MedicationRequest?identifier=${encodeURIComponent(`${PRESCRIPTION_NUMBER_SYSTEM}|${p.number}`)}`, { headers: as('pharmacyA') });
  expect(byNumber.status).toBe(200);
  expect(byNumber.body.entry.map((e: any) => e.resource.id)).toEqual([p.medicationRequestId]);
  const byPatient = await s.fetch(`/MedicationRequest?subject:Patient.identifier=${encodeURIComponent(`${BG_EGN_SYSTEM}|${egn}`)}&status=active`, { headers: as('pharmacyB') });
  expect(byPatient.body.entry.map((e: any) => e.resource.id)).toEqual([p.medicationRequestId]);

  const claims = await Promise.all(
    ['pharmacyA', 'pharmacyB'].map((who) => s.fetch(`/Task/${p.taskId}/$accept?ac=${p.accessCode}`, { method: 'POST', headers: as(who) }).then((r) => ({ who, r }))),
  );
  const won = claims.filter((c) => c.r.status === 200);
  const lost = claims.filter((c) => c.r.status !== 200);
  expect(won).toHaveLength(1);
  expect(lost.map((c) => c.r.status)).toEqual([409]);
  const secret = param(won[0].r.body, 'secret').valueString;

  // The loser cannot close with a guessed secret; the winner can, once.
  const loserClose = await s.fetch(`/Task/${p.taskId}/$close?secret=${secret}`, { method: 'POST', headers: as(lost[0].who), json: buildDispense(30) });
  expect(loserClose.status).toBeGreaterThanOrEqual(400);
  expect(loserClose.status).toBeLessThan(500);
  const closed = await s.fetch(`/Task/${p.taskId}/$close?secret=${secret}`, { method: 'POST', headers: as(won[0].who), json: buildDispense(30) });
  expect(closed.status).toBe(200);
  expect(param(closed.body, 'state').valueCode).toBe('completed');
  const again = await s.fetch(`/Task/${p.taskId}/$close?secret=${secret}`, { method: 'POST', headers: as(won[0].who), json: buildDispense(1) });
  expect(again.status).toBe(409);

  const dispenses = await s.fetch(`/MedicationDispense?prescription=MedicationRequest/${p.medicationRequestId}`);
  expect(dispenses.body.entry).toHaveLength(1);

  const timeline = await s.fetch(`/MedicationRequest/${p.medicationRequestId}/$timeline`, { headers: as('auditor') });
  expect(timeline.status).toBe(200);
  expect(timeline.body.parameter.filter((x: any) => x.name === 'event')).toHaveLength(3);
});

test('each role is held to its part: pharmacies cannot prescribe or edit Tasks, prescribers cannot claim, analysts see nothing', async () => {
  const { patientId, practitionerId } = await seed();
  const body = buildMedicationRequest(patientId, practitionerId);
  const byPharmacy = await s.fetch('/MedicationRequest/$prescribe', { method: 'POST', headers: as('pharmacyA'), json: body });
  expect(byPharmacy.status).toBe(403);
  expect(byPharmacy.body.issue[0].diagnostics).toMatch(/pharmacy-prescriptions-only/);

  const [p] = prescribedItems((await s.fetch('/MedicationRequest/$prescribe', { method: 'POST', headers: as('prescriber'), json: body })).body);
  const task = await s.fetch(`/Task/${p.taskId}`, { headers: as('pharmacyA') });
  expect(task.status).toBe(200);
  const edit = await s.fetch(`/Task/${p.taskId}`, { method: 'PUT', headers: as('pharmacyA'), json: { ...task.body, status: 'completed' } });
  expect(edit.status).toBe(403);
  const prescriberClaim = await s.fetch(`/Task/${p.taskId}/$accept?ac=${p.accessCode}`, { method: 'POST', headers: as('prescriber') });
  expect(prescriberClaim.status).toBe(403);
  const analystRead = await s.fetch(`/MedicationRequest/${p.medicationRequestId}`, { headers: as('analyst') });
  expect(analystRead.status).toBe(403);
  const noToken = await s.fetch(`/Task/${p.taskId}/$accept?ac=${p.accessCode}`, { method: 'POST', anonymous: true });
  expect(noToken.status).toBe(401);
  // Nothing above changed the prescription: it is still ready for a pharmacy.
  expect((await s.fetch(`/Task/${p.taskId}`)).body.status).toBe('ready');
});

test('a plain POST of an ePrescription-profile MedicationRequest prescribes: 201, access code once, in the answer only', async () => {
  const { patientId, practitionerId } = await seed();
  const body = { ...buildMedicationRequest(patientId, practitionerId), meta: { profile: [EPRESCRIPTION_PROFILE] } };
  expect((await s.fetch('/MedicationRequest', { method: 'POST', headers: as('pharmacyA'), json: body })).status).toBe(403);
  const created = await s.fetch('/MedicationRequest', { method: 'POST', headers: as('prescriber'), json: body });
  expect(created.status).toBe(201);
  expect(created.headers.get('location')).toMatch(/\/MedicationRequest\/[^/]+\/_history\/1$/);
  expect(created.headers.get('cache-control')).toBe('no-store');
  const ext = (url: string) => created.body.extension.find((e: any) => e.url === url);
  const accessCode = ext(ACCESS_CODE_EXTENSION).valueString;
  const taskId = ext(TASK_EXTENSION).valueReference.reference.split('/')[1];
  expect(created.body.identifier.some((i: any) => i.system === PRESCRIPTION_NUMBER_SYSTEM)).toBe(true);
  // Stored without the access code; the pharmacy can claim with it.
  const stored = await s.fetch(`/MedicationRequest/${created.body.id}`);
  expect(JSON.stringify(stored.body)).not.toContain(accessCode);
  expect((await s.fetch(`/Task/${taskId}/$accept?ac=${accessCode}`, { method: 'POST', headers: as('pharmacyA') })).status).toBe(200);
});

test('a transaction of ePrescriptions prescribes them as one group; an Idempotency-Key is refused, not ignored', async () => {
  const { patientId, practitionerId } = await seed();
  const item = (atc: string) => ({
    fullUrl: `urn:uuid:${crypto.randomUUID()}`,
    resource: { ...buildMedicationRequest(patientId, practitionerId, { atc }), meta: { profile: [EPRESCRIPTION_PROFILE] } },
    request: { method: 'POST', url: 'MedicationRequest' },
  });
  const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [item('C09AA05'), item('C10AA01')] };
  const keyed = await s.fetch('/', { method: 'POST', headers: { ...as('prescriber'), 'idempotency-key': 'k-1' }, json: bundle });
  expect(keyed.status).toBe(400);
  expect((await s.fetch('/', { method: 'POST', headers: as('pharmacyA'), json: bundle })).status).toBe(403);
  const res = await s.fetch('/', { method: 'POST', headers: as('prescriber'), json: bundle });
  expect(res.status).toBe(200);
  expect(res.body.type).toBe('transaction-response');
  expect(res.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '201 Created']);
  const groups = new Set(res.body.entry.map((e: any) => JSON.stringify(e.resource.groupIdentifier)));
  expect(groups.size).toBe(1);
  for (const e of res.body.entry) {
    const code = e.resource.extension.find((x: any) => x.url === ACCESS_CODE_EXTENSION).valueString;
    const task = e.resource.extension.find((x: any) => x.url === TASK_EXTENSION).valueReference.reference;
    expect((await s.fetch(`/${task}/$accept?ac=${code}`, { method: 'POST', headers: as('pharmacyB') })).status).toBe(200);
  }
});

test('operations are served on the type that defines them only', async () => {
  const res = await s.fetch('/Observation/abc/$accept', { method: 'POST', headers: as('pharmacyA') });
  expect(res.status).toBe(404);
  expect((await s.fetch('/Observation/$match', { method: 'POST', json: { resourceType: 'Parameters' } })).status).toBe(404);
  const cs = await s.fetch('/metadata');
  const ops = (type: string) => cs.body.rest[0].resource.find((r: any) => r.type === type).operation.map((o: any) => o.name);
  expect(ops('Task')).toEqual(expect.arrayContaining(['accept', 'dispense', 'close']));
  expect(ops('Observation')).not.toContain('accept');
  expect(ops('Patient')).toContain('match');
});
