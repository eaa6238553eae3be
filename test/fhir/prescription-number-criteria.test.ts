// Searches naming a prescription number check its Luhn digit (issue 13), as searches naming a
// national id check theirs: a mistyped number is 400 naming the parameter, not an empty Bundle a
// pharmacist reads as "no such prescription". https://hl7.org/fhir/R4/search.html#errors
import { luhnCheckDigit, PRESCRIPTION_NUMBER_SYSTEM } from '../../src/domain/prescription/prescription-number';
import { BG_EGN_SYSTEM, validEgn } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';
import { buildMedicationRequest, prescribedItems } from '../domain/prescription/prescription-setup';

let s: TestServer;
let prescriber: string;
let pharmacy: string;
let number: string;
let medicationRequestId: string;

beforeAll(async () => {
  s = await startTestServer();
  prescriber = await s.clientToken({ role: 'prescriber', organization: 'HOSP01' });
  pharmacy = await s.clientToken({ role: 'pharmacy', organization: 'PH001' });
  const patient = await s.fetch('/Patient', { method: 'POST', json: { resourceType: 'Patient', identifier: [{ system: BG_EGN_SYSTEM, value: validEgn() }], name: [{ family: 'Georgieva' }], gender: 'female', birthDate: '1975-05-05' } });
  const practitioner = await s.fetch('/Practitioner', { method: 'POST', json: { resourceType: 'Practitioner', name: [{ family: 'Petrov' }] } });
  const prescribed = await s.fetch('/MedicationRequest/$prescribe', { method: 'POST', headers: { authorization: `Bearer ${prescriber}` }, json: buildMedicationRequest(patient.body.id, practitioner.body.id) });
  expect(prescribed.status).toBe(200);
  const [item] = prescribedItems(prescribed.body);
  number = item.number;
  medicationRequestId = item.medicationRequestId;
}, 60_000);
afterAll(async () => {
  await s?.close();
});

const search = (path: string) => s.fetch(path, { headers: { authorization: `Bearer ${pharmacy}` } });
const criterion = (value: string) => encodeURIComponent(`${PRESCRIPTION_NUMBER_SYSTEM}|${value}`);

/** The same number with another (wrong) check digit. */
function mistyped(n: string): string {
  const digit = Number(n.slice(-1));
  return `${n.slice(0, -1)}${(digit + 1) % 10}`;
}

test('the right number finds the prescription', async () => {
  const res = await search(`/MedicationRequest?identifier=${criterion(number)}`);
  expect(res.status).toBe(200);
  expect(res.body.entry.map((e: any) => e.resource.id)).toEqual([medicationRequestId]);
});

test('a wrong check digit is 400 naming the parameter, for MedicationRequest and Task searches alike', async () => {
  for (const path of [`/MedicationRequest?identifier=${criterion(mistyped(number))}`, `/Task?status=ready&identifier=${criterion(mistyped(number))}`]) {
    const res = await search(path);
    expect(res.status).toBe(400);
    expect(res.body.issue).toEqual([
      expect.objectContaining({ severity: 'error', code: 'invalid', expression: ['identifier'], details: expect.objectContaining({ coding: [expect.objectContaining({ code: 'NHIS-6009' })] }) }),
    ]);
  }
});

test('a value that is not a prescription number at all is 400 too; a well-formed unknown number is an empty result', async () => {
  expect((await search(`/MedicationRequest?identifier=${criterion('RX-24-123')}`)).status).toBe(400);
  const serial = '99999999';
  const yy = number.slice(3, 5);
  const unknown = await search(`/MedicationRequest?identifier=${criterion(`RX-${yy}-${serial}-${luhnCheckDigit(yy + serial)}`)}`);
  expect(unknown.status).toBe(200);
  expect(unknown.body.entry ?? []).toEqual([]);
});
