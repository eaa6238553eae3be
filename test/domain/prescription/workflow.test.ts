// ePrescription workflow (issue 7) at handler level against PostgreSQL: prescribe, find, claim, dispense, close, abort, expiry, timeline.
jest.setTimeout(30_000);
import { createLocalJWKSet, jwtVerify } from 'jose';
import { sql } from 'kysely';
import { createSigningKeyStore } from '../../../src/auth/signing-keys';
import { isValidPrescriptionNumber, PRESCRIPTION_NUMBER_SYSTEM } from '../../../src/domain/prescription/prescription-number';
import { processDuePrescriptions } from '../../../src/domain/prescription/expire';
import { FhirError } from '../../../src/errors/fhir-error';
import { medicationRequestTimeline } from '../../../src/fhir/operations/medication-request-timeline';
import { prescribeOperation } from '../../../src/fhir/operations/prescription-prescribe';
import { taskAbort } from '../../../src/fhir/operations/task-abort';
import { taskAccept } from '../../../src/fhir/operations/task-accept';
import { taskClose } from '../../../src/fhir/operations/task-close';
import { taskDispense } from '../../../src/fhir/operations/task-dispense';
import { taskReject } from '../../../src/fhir/operations/task-reject';
import { update } from '../../../src/fhir/interactions/update';
import { create } from '../../../src/fhir/interactions/create';
import { FHIR_ROUTES } from '../../../src/fhir/routes';
import { EPRESCRIPTION_PROFILE } from '../../../src/domain/prescription/prescribe';
import { readCurrent } from '../../../src/repository/resources';
import { SERVER_SCOPE } from '../../../src/store/access/access-scope';
import { searchAuditEvents } from '../../../src/store/audit/audit-search';
import { matchResourceIds } from '../../../src/store/search/search-resources';
import { parseJson } from '../../../src/shared/json';
import {
  buildDispense,
  buildMedicationRequest,
  buildPrincipal,
  buildRequest,
  param,
  pharmacy,
  prescribedItems,
  prescriber,
  seedPatientAndPrescriber,
  startHarness,
  type PrescriptionHarness,
} from './prescription-setup';

let h: PrescriptionHarness;
beforeAll(async () => {
  h = await startHarness();
}, 180_000);
afterAll(async () => {
  await h.close();
});

async function failure(p: Promise<unknown>): Promise<FhirError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FhirError) return err;
    throw err;
  }
  throw new Error('expected a FhirError');
}

async function prescribeOne(o: Parameters<typeof buildMedicationRequest>[2] = {}, patient: Record<string, unknown> = {}) {
  const seeded = await seedPatientAndPrescriber(h.ctx, patient);
  const res = await prescribeOperation(h.ctx, buildRequest({ body: buildMedicationRequest(seeded.patientId, seeded.practitionerId, o), principal: prescriber() }));
  return { ...prescribedItems(res.body)[0], ...seeded, res };
}

const accept = (taskId: string, ac: string, org: string) => taskAccept(h.ctx, buildRequest({ id: taskId, query: { ac }, principal: pharmacy(org) }));
const dispense = (taskId: string, secret: string, org: string, ...qs: number[]) =>
  taskDispense(h.ctx, buildRequest({ id: taskId, query: { secret }, principal: pharmacy(org), body: qs.length === 1 ? buildDispense(qs[0]) : { resourceType: 'Bundle', type: 'collection', entry: qs.map((q) => ({ resource: buildDispense(q) })) } }));
const close = (taskId: string, secret: string, org: string, q?: number) =>
  taskClose(h.ctx, buildRequest({ id: taskId, query: { secret }, principal: pharmacy(org), body: q === undefined ? undefined : buildDispense(q) }));
const stored = async (type: string, id: string) => parseJson((await readCurrent(h.ctx.db, type, id))!.content!) as any;

test('happy path: prescribe → find → accept → close, with a receipt verifiable by the published keys', async () => {
  const p = await prescribeOne();
  expect(p.res.status).toBe(200);
  expect(p.res.headers?.['Cache-Control']).toBe('no-store');
  expect(isValidPrescriptionNumber(p.number)).toBe(true);
  expect(p.number).toMatch(/^RX-26-\d{8}-\d$/);
  expect(p.accessCode).toMatch(/^[0-9a-f]{64}$/);
  const task = await stored('Task', p.taskId);
  expect(task).toMatchObject({ status: 'ready', intent: 'order', focus: { reference: `MedicationRequest/${p.medicationRequestId}` }, for: { reference: `Patient/${p.patientId}` } });
  const mr = await stored('MedicationRequest', p.medicationRequestId);
  expect(mr.identifier).toEqual(expect.arrayContaining([expect.objectContaining({ system: PRESCRIPTION_NUMBER_SYSTEM, value: p.number })]));
  // The access code itself is stored nowhere.
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from resource where content like ${'%' + p.accessCode + '%'}`.execute(h.ctx.db);
  expect(rows[0].n).toBe(0);

  // Find: by number (Task and MedicationRequest), by patient national id; listing changes nothing.
  const byNumber = await matchResourceIds(h.ctx.db, SERVER_SCOPE, 'Task', new URLSearchParams({ identifier: `${PRESCRIPTION_NUMBER_SYSTEM}|${p.number}` }), 5);
  expect(byNumber).toEqual([p.taskId]);
  const mrByNumber = await matchResourceIds(h.ctx.db, SERVER_SCOPE, 'MedicationRequest', new URLSearchParams({ identifier: `${PRESCRIPTION_NUMBER_SYSTEM}|${p.number}` }), 5);
  expect(mrByNumber).toEqual([p.medicationRequestId]);
  const byPatient = await matchResourceIds(
    h.ctx.db,
    SERVER_SCOPE,
    'MedicationRequest',
    new URLSearchParams({ 'subject:Patient.identifier': `${p.nationalId.system}|${p.nationalId.value}`, status: 'active' }),
    5,
  );
  expect(byPatient).toEqual([p.medicationRequestId]);
  expect((await stored('Task', p.taskId)).meta.versionId).toBe('1');

  const accepted = await accept(p.taskId, p.accessCode, 'PH001');
  const secret = param(accepted.body, 'secret').valueString;
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
  expect(param(accepted.body, 'task').resource).toMatchObject({ status: 'in-progress', owner: { identifier: { value: 'PH001' } } });
  // The same pharmacy retrying gets the same secret; another gets 409 naming the state.
  expect(param((await accept(p.taskId, p.accessCode, 'PH001')).body, 'secret').valueString).toBe(secret);
  const other = await failure(accept(p.taskId, p.accessCode, 'PH002'));
  expect(other.status).toBe(409);
  expect(other.message).toContain('in-progress');

  const closed = await close(p.taskId, secret, 'PH001', 30);
  expect(param(closed.body, 'state').valueCode).toBe('completed');
  expect(param(closed.body, 'task').resource.status).toBe('completed');
  expect((await stored('MedicationRequest', p.medicationRequestId)).status).toBe('completed');

  const receipt = param(closed.body, 'receipt').valueString;
  const store = createSigningKeyStore({ db: h.ctx.db, clock: h.ctx.clock, alg: h.ctx.config.tokenSigningAlg, rotationSeconds: h.ctx.config.signingKeyRotationSeconds, keyEncryptionKey: h.ctx.config.keyEncryptionKey });
  const { payload, protectedHeader } = await jwtVerify(receipt, createLocalJWKSet(await store.jwks()), { currentDate: h.clock.now() });
  expect(protectedHeader.typ).toBe('prescription-receipt+jwt');
  expect(payload).toMatchObject({ prescriptionNumber: p.number, state: 'completed', quantityDispensed: 30, pharmacy: 'PH001' });
  expect((payload as any).medicationRequest.sha256).toMatch(/^[0-9a-f]{64}$/);
  expect((payload as any).dispenses).toHaveLength(1);

  // Closed: the secret no longer works; closing again is 409 naming the state.
  const again = await failure(close(p.taskId, secret, 'PH001', 1));
  expect(again.status).toBe(409);
  expect(again.message).toContain('completed');

  const timeline = await medicationRequestTimeline(h.ctx, buildRequest({ id: p.medicationRequestId, method: 'GET', principal: prescriber() }));
  const events = (timeline.body as any).parameter.filter((x: any) => x.name === 'event').map((e: any) => Object.fromEntries(e.part.map((pt: any) => [pt.name, pt.valueCode ?? pt.valueString ?? pt.valueInstant])));
  expect(events.map((e: any) => e.action)).toEqual(['prescribe', 'accept', 'close']);
  expect(events[1]).toMatchObject({ from: 'ready', to: 'in-progress', client: 'pharmacy-PH001', organization: 'PH001', role: 'pharmacy' });
  expect(events[2]).toMatchObject({ to: 'completed', reason: 'nothing remains' });
  // Each state change also left an AuditEvent in the same transaction.
  const audits = await (await searchAuditEvents(h.ctx.db, SERVER_SCOPE, new URLSearchParams({ entity: `Task/${p.taskId}`, _count: '20' }), { strict: true })).events;
  expect(audits.length).toBe(3);
});

test('error statuses: 401 without a principal, 403 wrong secret / not claimant / not a pharmacy, 404 unknown or wrong access code, 400 missing code', async () => {
  const p = await prescribeOne();
  expect((await failure(taskAccept(h.ctx, buildRequest({ id: p.taskId, query: { ac: p.accessCode } })))).status).toBe(401);
  // Issue 13: a wrong access code answers as an unknown Task (was 403), so $accept is no existence oracle.
  expect((await failure(accept(p.taskId, 'f'.repeat(64), 'PH001'))).status).toBe(404);
  expect((await failure(accept('no-such-task', p.accessCode, 'PH001'))).status).toBe(404);
  expect((await failure(taskAccept(h.ctx, buildRequest({ id: p.taskId, principal: pharmacy('PH001') })))).status).toBe(400);
  expect((await failure(taskAccept(h.ctx, buildRequest({ id: p.taskId, query: { ac: p.accessCode }, principal: prescriber() })))).status).toBe(403);
  expect((await failure(prescribeOperation(h.ctx, buildRequest({ body: buildMedicationRequest(p.patientId, p.practitionerId) })))).status).toBe(401);
  // Not claimed yet: dispense is 409 naming 'ready'.
  const notClaimed = await failure(dispense(p.taskId, 'x', 'PH001', 1));
  expect(notClaimed.status).toBe(409);
  expect(notClaimed.message).toContain('ready');

  const secret = param((await accept(p.taskId, p.accessCode, 'PH001')).body, 'secret').valueString;
  expect((await failure(dispense(p.taskId, 'a'.repeat(64), 'PH001', 1))).status).toBe(403);
  expect((await failure(dispense(p.taskId, secret, 'PH002', 1))).status).toBe(403);
  expect((await failure(close(p.taskId, secret, 'PH002', 1))).status).toBe(403);
  expect((await failure(taskReject(h.ctx, buildRequest({ id: p.taskId, query: { secret: 'b'.repeat(64) }, principal: pharmacy('PH001') })))).status).toBe(403);
  expect((await failure(dispense('no-such-task', secret, 'PH001', 1))).status).toBe(404);
  // Too much: 422, nothing recorded.
  expect((await failure(dispense(p.taskId, secret, 'PH001', 31))).status).toBe(422);
  expect((await failure(close(p.taskId, secret, 'PH001'))).status).toBe(422);

  // $reject: back to ready, the secret is invalidated; a new claim gets a new secret.
  const rejected = await taskReject(h.ctx, buildRequest({ id: p.taskId, query: { secret }, principal: pharmacy('PH001') }));
  expect(parseJson(rejected.rawBody!)).toMatchObject({ status: 'ready' });
  expect((await failure(dispense(p.taskId, secret, 'PH001', 1))).status).toBe(409);
  const secret2 = param((await accept(p.taskId, p.accessCode, 'PH001')).body, 'secret').valueString;
  expect(secret2).not.toBe(secret);
  expect((await failure(dispense(p.taskId, secret, 'PH001', 1))).status).toBe(403);
});

test('partial dispense and repeats: fills go back to ready until none remain; dispensed never exceeds prescribed (CHECK)', async () => {
  const p = await prescribeOne({ quantity: 10, repeats: 1 });
  let secret = param((await accept(p.taskId, p.accessCode, 'PH010')).body, 'secret').valueString;
  const partial = await dispense(p.taskId, secret, 'PH010', 2, 2);
  expect((partial.body as any).entry.filter((e: any) => e.resource.resourceType === 'MedicationDispense')).toHaveLength(2);
  expect((partial.body as any).entry.find((e: any) => e.resource.resourceType === 'MedicationDispense').resource).toMatchObject({
    status: 'completed',
    authorizingPrescription: [{ reference: `MedicationRequest/${p.medicationRequestId}` }],
    subject: { reference: `Patient/${p.patientId}` },
  });
  expect((await failure(dispense(p.taskId, secret, 'PH010', 7))).status).toBe(422); // 4 + 7 > 10 per fill
  const first = await close(p.taskId, secret, 'PH010', 6);
  expect(param(first.body, 'state').valueCode).toBe('ready');
  expect(param(first.body, 'task').resource.status).toBe('ready');
  expect((await stored('MedicationRequest', p.medicationRequestId)).status).toBe('active');
  const { payload } = { payload: JSON.parse(Buffer.from(param(first.body, 'receipt').valueString.split('.')[1], 'base64url').toString()) };
  expect(payload.dispenses.map((d: any) => d.quantity)).toEqual([2, 2, 6]);

  // The repeat, at another pharmacy.
  secret = param((await accept(p.taskId, p.accessCode, 'PH011')).body, 'secret').valueString;
  const second = await close(p.taskId, secret, 'PH011', 10);
  expect(param(second.body, 'state').valueCode).toBe('completed');
  expect((await stored('MedicationRequest', p.medicationRequestId)).status).toBe('completed');
  const row = (await sql<any>`select quantity_dispensed::float as d, quantity_prescribed::float as q, fills_used from prescription where task_id = ${p.taskId}`.execute(h.ctx.db)).rows[0];
  expect(row).toEqual({ d: 20, q: 20, fills_used: 2 });
  await expect(sql`update prescription set quantity_dispensed = 21 where task_id = ${p.taskId}`.execute(h.ctx.db)).rejects.toMatchObject({ code: '23514' });
});

test('lease expiry: a lapsed claim returns the Task to ready (lazily on $accept, and by the job)', async () => {
  const p = await prescribeOne();
  const secretA = param((await accept(p.taskId, p.accessCode, 'PH020')).body, 'secret').valueString;
  h.clock.advance(31 * 60_000);
  expect((await failure(dispense(p.taskId, secretA, 'PH020', 1))).status).toBe(409);
  const b = await accept(p.taskId, p.accessCode, 'PH021');
  expect(param(b.body, 'task').resource.owner.identifier.value).toBe('PH021');
  expect((await failure(dispense(p.taskId, secretA, 'PH020', 1))).status).toBe(403);

  const q = await prescribeOne();
  await accept(q.taskId, q.accessCode, 'PH022');
  h.clock.advance(31 * 60_000);
  expect(await processDuePrescriptions(h.ctx)).toBeGreaterThanOrEqual(1);
  expect((await stored('Task', q.taskId)).status).toBe('ready');
  const timeline = await medicationRequestTimeline(h.ctx, buildRequest({ id: q.medicationRequestId, method: 'GET', principal: pharmacy('PH022') }));
  const actions = (timeline.body as any).parameter.filter((x: any) => x.name === 'event').map((e: any) => e.part.find((pt: any) => pt.name === 'action').valueCode);
  expect(actions).toEqual(['prescribe', 'accept', 'lease-expired']);
});

test('validity expiry: $accept answers 410 with the reason; the job expires the rest', async () => {
  const end = new Date(h.clock.now().getTime() + 86_400_000).toISOString();
  const p = await prescribeOne({ validityEnd: end });
  const q = await prescribeOne({ validityEnd: end });
  h.clock.advance(2 * 86_400_000);
  const gone = await failure(accept(p.taskId, p.accessCode, 'PH030'));
  expect(gone.status).toBe(410);
  expect(gone.message).toContain('validity period ended');
  expect((await stored('Task', p.taskId)).status).toBe('failed');
  expect((await stored('MedicationRequest', p.medicationRequestId)).status).toBe('stopped');
  await processDuePrescriptions(h.ctx);
  expect((await stored('Task', q.taskId)).status).toBe('failed');
  expect((await failure(accept(q.taskId, q.accessCode, 'PH030'))).status).toBe(410);
});

test('$abort: the prescriber organization or the patient; not while a pharmacy holds it; not after the end', async () => {
  const p = await prescribeOne();
  expect((await failure(taskAbort(h.ctx, buildRequest({ id: p.taskId })))).status).toBe(401);
  expect((await failure(taskAbort(h.ctx, buildRequest({ id: p.taskId, principal: prescriber('OTHER') })))).status).toBe(403);
  expect((await failure(taskAbort(h.ctx, buildRequest({ id: p.taskId, principal: pharmacy('PH040') })))).status).toBe(403);
  // To another patient the prescription does not exist.
  expect((await failure(taskAbort(h.ctx, buildRequest({ id: p.taskId, principal: buildPrincipal('patient', { patientId: 'someone-else' }) })))).status).toBe(404);
  expect((await failure(taskAbort(h.ctx, buildRequest({ id: 'nope', principal: prescriber() })))).status).toBe(404);
  const secret = param((await accept(p.taskId, p.accessCode, 'PH040')).body, 'secret').valueString;
  const held = await failure(taskAbort(h.ctx, buildRequest({ id: p.taskId, principal: prescriber() })));
  expect(held.status).toBe(409);
  expect(held.message).toContain('in-progress');
  await taskReject(h.ctx, buildRequest({ id: p.taskId, query: { secret }, principal: pharmacy('PH040') }));
  const cancelled = await taskAbort(h.ctx, buildRequest({ id: p.taskId, principal: prescriber(), query: { reason: 'wrong dose' } }));
  expect(parseJson(cancelled.rawBody!)).toMatchObject({ status: 'cancelled', statusReason: { text: 'wrong dose' } });
  expect((await stored('MedicationRequest', p.medicationRequestId)).status).toBe('cancelled');
  expect((await failure(taskAbort(h.ctx, buildRequest({ id: p.taskId, principal: prescriber() })))).status).toBe(409);
  expect((await failure(accept(p.taskId, p.accessCode, 'PH040'))).status).toBe(409);

  const q = await prescribeOne();
  const byPatient = await taskAbort(h.ctx, buildRequest({ id: q.taskId, principal: buildPrincipal('patient', { patientId: q.patientId }) }));
  expect((parseJson(byPatient.rawBody!) as any).status).toBe('cancelled');
});

test('prescribing checks: unknown or deceased patient, unknown prescriber, validity beyond the maximum → 422', async () => {
  const seeded = await seedPatientAndPrescriber(h.ctx);
  const run = (body: unknown) => failure(prescribeOperation(h.ctx, buildRequest({ body, principal: prescriber() })));
  expect((await run(buildMedicationRequest('no-such-patient', seeded.practitionerId))).status).toBe(422);
  expect((await run(buildMedicationRequest(seeded.patientId, 'no-such-practitioner'))).status).toBe(422);
  const tooLong = new Date(h.clock.now().getTime() + 400 * 86_400_000).toISOString();
  expect((await run(buildMedicationRequest(seeded.patientId, seeded.practitionerId, { validityEnd: tooLong }))).status).toBe(422);
  const dead = await seedPatientAndPrescriber(h.ctx, { deceasedDateTime: '2026-01-01' });
  const deceased = await run(buildMedicationRequest(dead.patientId, dead.practitionerId));
  expect(deceased.status).toBe(422);
  expect(deceased.issues[0].nhisCode).toBe('NHIS-6003');
});

test('safety warnings: same-ATC duplicate and an interacting pair across the patient\'s open prescriptions (never a block)', async () => {
  const seeded = await seedPatientAndPrescriber(h.ctx);
  const post = (body: unknown) => prescribeOperation(h.ctx, buildRequest({ body, principal: prescriber() }));
  const first = await post(buildMedicationRequest(seeded.patientId, seeded.practitionerId, { atc: 'B01AA03' }));
  expect(param(first.body, 'outcome').resource.issue[0].severity).toBe('information');
  // Two at once (a Bundle sharing a group): a duplicate warfarin and an NSAID.
  const both = await post({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ resource: buildMedicationRequest(seeded.patientId, seeded.practitionerId, { atc: 'B01AA03' }) }, { resource: buildMedicationRequest(seeded.patientId, seeded.practitionerId, { atc: 'M01AE01' }) }],
  });
  const items = prescribedItems((both.body as any));
  expect(items).toHaveLength(2);
  const mr0 = (both.body as any).parameter[0].part.find((x: any) => x.name === 'medicationRequest').resource;
  const mr1 = (both.body as any).parameter[1].part.find((x: any) => x.name === 'medicationRequest').resource;
  expect(mr0.groupIdentifier).toEqual(mr1.groupIdentifier);
  const issues = param((both.body as any), 'outcome').resource.issue;
  expect(issues.every((i: any) => i.severity === 'warning')).toBe(true);
  const codes = issues.map((i: any) => i.details.coding[0].code).sort();
  expect(codes).toEqual(['NHIS-6030', 'NHIS-6031', 'NHIS-6031']);
});

test('clients cannot rewrite workflow-owned resources (Task, MedicationRequest) with PUT: 409', async () => {
  const p = await prescribeOne();
  const put = (type: string, id: string, body: unknown) => failure(update(h.ctx, { ...buildRequest({ method: 'PUT', body, principal: prescriber() }), params: { type, id } }));
  const task = await stored('Task', p.taskId);
  expect((await put('Task', p.taskId, { ...task, status: 'completed' })).status).toBe(409);
  const mr = await stored('MedicationRequest', p.medicationRequestId);
  const refused = await put('MedicationRequest', p.medicationRequestId, { ...mr, status: 'completed' });
  expect(refused.status).toBe(409);
  expect(refused.issues[0].nhisCode).toBe('NHIS-6007');
  expect((await stored('Task', p.taskId)).status).toBe('ready');
});

test('routes: the workflow operations answer 404 on other resource types', async () => {
  const acceptRoute = FHIR_ROUTES.find((r) => r.operation === 'accept')!;
  const err = await failure(acceptRoute.handler(h.ctx, { ...buildRequest({ id: 'x', query: { ac: 'y' }, principal: pharmacy('PH') }), params: { type: 'Patient', id: 'x' } }));
  expect(err.status).toBe(404);
});

test('a plain create of a MedicationRequest claiming the ePrescription profile is refused with a pointer to $prescribe', async () => {
  const seeded = await seedPatientAndPrescriber(h.ctx);
  const body = buildMedicationRequest(seeded.patientId, seeded.practitionerId, { extra: { meta: { profile: [EPRESCRIPTION_PROFILE] } } });
  const err = await failure(create(h.ctx, { ...buildRequest({ body, principal: prescriber() }), params: { type: 'MedicationRequest' } }));
  expect([400, 422]).toContain(err.status);
  // A MedicationRequest that is not an ePrescription (hospital order, history import) is stored as before.
  const plain = await create(h.ctx, { ...buildRequest({ body: buildMedicationRequest(seeded.patientId, seeded.practitionerId), principal: prescriber() }), params: { type: 'MedicationRequest' } });
  expect(plain.status).toBe(201);
});
