// A patient cancels their own prescription through a patient app (Task/$abort with patient/Task.u):
// the one write a patient token can make. Another patient's prescription does not exist for them.
import { BG_EGN_SYSTEM, validEgn } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';
import { createCitizenIdp } from '../support/tokens';
import { buildMedicationRequest, prescribedItems, type Prescribed } from '../domain/prescription/prescription-setup';

let s: TestServer;
let idp: Awaited<ReturnType<typeof createCitizenIdp>>;
let prescriber: string;
let practitionerId: string;

beforeAll(async () => {
  idp = await createCitizenIdp();
  s = await startTestServer({ env: idp.env });
  prescriber = await s.clientToken({ role: 'prescriber', organization: 'HOSP01' });
  practitionerId = (await s.fetch('/Practitioner', { method: 'POST', json: { resourceType: 'Practitioner', name: [{ family: 'Petrov' }] } })).body.id;
}, 180_000);
afterAll(async () => {
  await s?.close();
  idp?.remove();
});

async function patientWithPrescription(): Promise<{ egn: string; p: Prescribed }> {
  const egn = validEgn();
  const patient = await s.fetch('/Patient', { method: 'POST', json: { resourceType: 'Patient', identifier: [{ system: BG_EGN_SYSTEM, value: egn }], name: [{ family: 'Ivanova' }], gender: 'female', birthDate: '1980-02-02' } });
  expect(patient.status).toBe(201);
  const prescribed = await s.fetch('/MedicationRequest/$prescribe', { method: 'POST', headers: { authorization: `Bearer ${prescriber}` }, json: buildMedicationRequest(patient.body.id, practitionerId) });
  expect(prescribed.status).toBe(200);
  return { egn, p: prescribedItems(prescribed.body)[0] };
}

const patientApp = async (egn: string, scope?: string) => ({ authorization: `Bearer ${await idp.mint(egn, scope ? { scope } : {})}` });

test('with patient/Task.u a patient cancels their own prescription; it is then cancelled for everyone', async () => {
  const { egn, p } = await patientWithPrescription();
  const res = await s.fetch(`/Task/${p.taskId}/$abort?reason=${encodeURIComponent('no longer needed')}`, { method: 'POST', headers: await patientApp(egn, 'patient/*.rs patient/Task.u') });
  expect(res.status).toBe(200);
  const mr = await s.fetch(`/MedicationRequest/${p.medicationRequestId}`);
  expect(mr.body.status).toBe('cancelled');
  const again = await s.fetch(`/Task/${p.taskId}/$abort`, { method: 'POST', headers: await patientApp(egn, 'patient/*.rs patient/Task.u') });
  expect(again.status).toBe(409);
});

test("another patient's prescription answers 404, as one that does not exist", async () => {
  const mine = await patientWithPrescription();
  const theirs = await patientWithPrescription();
  const headers = await patientApp(mine.egn, 'patient/*.rs patient/Task.u');
  const other = await s.fetch(`/Task/${theirs.p.taskId}/$abort`, { method: 'POST', headers });
  const missing = await s.fetch(`/Task/00000000-0000-4000-8000-000000000000/$abort`, { method: 'POST', headers });
  expect(other.status).toBe(404);
  expect(missing.status).toBe(404);
  expect(other.body.issue[0].code).toBe(missing.body.issue[0].code);
  expect((await s.fetch(`/MedicationRequest/${theirs.p.medicationRequestId}`)).body.status).toBe('active');
});

test('without the scope, or for any other write, a patient token is refused', async () => {
  const { egn, p } = await patientWithPrescription();
  // A token that asks for nothing gets read-only scopes.
  const readOnly = await s.fetch(`/Task/${p.taskId}/$abort`, { method: 'POST', headers: await patientApp(egn) });
  expect(readOnly.status).toBe(403);
  const withScope = await patientApp(egn, 'patient/*.rs patient/Task.u');
  const accept = await s.fetch(`/Task/${p.taskId}/$accept?ac=${p.accessCode}`, { method: 'POST', headers: withScope });
  expect(accept.status).toBe(403);
  const task = await s.fetch(`/Task/${p.taskId}`, { headers: withScope });
  expect(task.status).toBe(200);
  const put = await s.fetch(`/Task/${p.taskId}`, { method: 'PUT', headers: withScope, json: { ...task.body, status: 'cancelled' } });
  expect(put.status).toBe(403);
  // Scopes a patient IdP may not grant are dropped, not honoured.
  const greedy = await s.fetch('/Observation', { method: 'POST', headers: await patientApp(egn, 'patient/*.cruds'), json: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } });
  expect(greedy.status).toBe(403);
  expect((await s.fetch(`/MedicationRequest/${p.medicationRequestId}`)).body.status).toBe('active');
});
