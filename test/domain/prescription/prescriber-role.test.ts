// Prescribing needs a prescriber with an active role: a PractitionerRole within its period, and under
// REGISTRY_MODE=strict (the national default) a Practitioner holding one.
import { FhirError } from '../../../src/errors/fhir-error';
import { prescribeOperation } from '../../../src/fhir/operations/prescription-prescribe';
import { buildMedicationRequest, buildRequest, prescriber, seedPatientAndPrescriber, startHarness, storeResource, type PrescriptionHarness } from './prescription-setup';

let h: PrescriptionHarness;
beforeAll(async () => {
  h = await startHarness();
}, 180_000);
afterAll(async () => {
  await h.close();
});

const prescribeAs = (patientId: string, requester: string) =>
  prescribeOperation(h.ctx, buildRequest({ body: { ...buildMedicationRequest(patientId, 'x'), requester: { reference: requester } }, principal: prescriber() }));

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof FhirError) return err.status;
    throw err;
  }
}

test('a PractitionerRole outside its period cannot prescribe; one within it can', async () => {
  const { patientId, practitionerId } = await seedPatientAndPrescriber(h.ctx);
  const now = h.clock.now().getTime();
  const day = 86_400_000;
  const ended = await storeResource(h.ctx, { resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${practitionerId}` }, period: { start: '2020-01-01', end: new Date(now - 30 * day).toISOString().slice(0, 10) } });
  const current = await storeResource(h.ctx, { resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${practitionerId}` }, period: { start: '2020-01-01' } });
  expect(await status(prescribeAs(patientId, `PractitionerRole/${ended}`))).toBe(422);
  expect(await status(prescribeAs(patientId, `PractitionerRole/${current}`))).toBe(200);
});

test('under REGISTRY_MODE=strict a Practitioner without an active role cannot prescribe', async () => {
  const { patientId, practitionerId } = await seedPatientAndPrescriber(h.ctx);
  const mode = h.ctx.config.registryMode;
  h.ctx.config.registryMode = 'strict';
  try {
    expect(await status(prescribeAs(patientId, `Practitioner/${practitionerId}`))).toBe(422);
    await storeResource(h.ctx, { resourceType: 'PractitionerRole', active: true, practitioner: { reference: `Practitioner/${practitionerId}` } });
    expect(await status(prescribeAs(patientId, `Practitioner/${practitionerId}`))).toBe(200);
  } finally {
    h.ctx.config.registryMode = mode;
  }
});
