// Task/$accept is no existence oracle (issue 13): a wrong access code answers exactly as an
// unknown Task does, 404 with the same OperationOutcome apart from the id.
// https://hl7.org/fhir/R4/security.html#AccessDenied ("servers MAY return 404 Not Found, to
// avoid leaking information about the existence of a resource").
import { BG_EGN_SYSTEM, validEgn } from '../../support/fixtures';
import { startTestServer, type TestServer } from '../../support/server';
import { buildMedicationRequest, prescribedItems } from '../../domain/prescription/prescription-setup';

let s: TestServer;
let pharmacy: string;
let taskId: string;
let accessCode: string;

beforeAll(async () => {
  s = await startTestServer();
  const prescriber = await s.clientToken({ role: 'prescriber', organization: 'HOSP01' });
  pharmacy = await s.clientToken({ role: 'pharmacy', organization: 'PH001' });
  const patient = await s.fetch('/Patient', { method: 'POST', json: { resourceType: 'Patient', identifier: [{ system: BG_EGN_SYSTEM, value: validEgn() }], name: [{ family: 'Dimitrova' }], gender: 'female', birthDate: '1975-05-05' } });
  const practitioner = await s.fetch('/Practitioner', { method: 'POST', json: { resourceType: 'Practitioner', name: [{ family: 'Petrov' }] } });
  const prescribed = await s.fetch('/MedicationRequest/$prescribe', { method: 'POST', headers: { authorization: `Bearer ${prescriber}` }, json: buildMedicationRequest(patient.body.id, practitioner.body.id) });
  expect(prescribed.status).toBe(200);
  [{ taskId, accessCode }] = prescribedItems(prescribed.body);
}, 60_000);
afterAll(async () => {
  await s?.close();
});

const accept = (id: string, ac: string) => s.fetch(`/Task/${id}/$accept?ac=${ac}`, { method: 'POST', headers: { authorization: `Bearer ${pharmacy}` } });

test('a wrong access code and an unknown Task get the same 404 and the same body apart from the id', async () => {
  const wrongCode = await accept(taskId, 'f'.repeat(64));
  const unknownId = 'c0ffee00-0000-4000-8000-000000000000';
  const unknown = await accept(unknownId, accessCode);
  expect(wrongCode.status).toBe(404);
  expect(unknown.status).toBe(404);
  expect(wrongCode.text.split(taskId).join('{id}')).toBe(unknown.text.split(unknownId).join('{id}'));
  expect(wrongCode.body.issue[0].details.coding[0].code).toBe('NHIS-6010');
});

test('after a wrong code the right one still claims the prescription', async () => {
  expect((await accept(taskId, 'e'.repeat(64))).status).toBe(404);
  expect((await accept(taskId, accessCode)).status).toBe(200);
});
