// Audit trail as FHIR AuditEvents following IHE BALP: https://profiles.ihe.net/ITI/BALP/
import { auditOutcomeForStatus, buildAuditEvent } from '../../src/store/audit/audit-event-json';
import { createAuditTrail, type AuditTrail } from '../../src/store/audit/audit-trail';
import { readAuditEvent, searchAuditEvents } from '../../src/store/audit/audit-search';
import { SERVER_SCOPE } from '../../src/store/access/access-scope';
import type { Principal } from '../../src/auth/principal';
import { inTransaction } from '../../src/repository/transaction';
import { uuidIds } from '../../src/shared/ids';
import { startSecurityHarness, type SecurityHarness } from './setup';

let h: SecurityHarness;
let trail: AuditTrail;
beforeAll(async () => {
  h = await startSecurityHarness();
  trail = createAuditTrail({ db: h.handle.db, ids: uuidIds, readCommit: 'durable' });
}, 180_000);
/** Ids of the events a search of the trail finds (as an auditor would search it). */
const findIds = async (query: string) => (await searchAuditEvents(h.handle.db, SERVER_SCOPE, new URLSearchParams(query), { strict: true })).events.map((e) => e.id);
afterAll(() => h.close());

const pharmacy: Principal = {
  kind: 'client',
  clientId: 'pharm-1',
  role: 'pharmacy',
  organization: 'PH001',
  scopes: ['system/MedicationRequest.rs'],
  subject: 'pharm-1',
  expiresAt: new Date(),
};
const when = new Date('2030-05-01T12:00:00Z');

test('a search by a pharmacy: BALP shape', () => {
  const ev = buildAuditEvent({
    principal: pharmacy,
    interaction: 'search',
    resourceType: 'MedicationRequest',
    query: 'subject=Patient/pat-1&status=active',
    patientIds: ['pat-1', 'pat-1'],
    outcome: 'success',
    purposeOfUse: 'TREAT',
    requestId: 'req-1',
    clientIp: '10.0.0.7',
    when,
  });
  expect(ev).toMatchObject({
    resourceType: 'AuditEvent',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'search-type' }],
    action: 'E',
    recorded: '2030-05-01T12:00:00.000Z',
    outcome: '0',
    purposeOfEvent: [{ coding: [{ code: 'TREAT' }] }],
    source: { observer: { display: 'OpenNHIS' } },
  });
  expect(ev.agent[0]).toMatchObject({ type: { coding: [{ code: '110153' }] }, who: { identifier: { value: 'pharm-1' } }, requestor: true, network: { address: '10.0.0.7', type: '2' } });
  expect(ev.agent[1]).toMatchObject({ who: { identifier: { value: 'PH001' } }, requestor: false });
  expect(ev.agent.at(-1)).toMatchObject({ type: { coding: [{ code: '110152' }] }, requestor: false });
  const query = ev.entity!.find((e) => e.role?.code === '24')!;
  expect(Buffer.from(query.query!, 'base64').toString()).toBe('subject=Patient/pat-1&status=active');
  expect(ev.entity!.filter((e) => e.role?.code === '1').map((e) => e.what?.reference)).toEqual(['Patient/pat-1']);
  expect(ev.entity!.at(-1)).toMatchObject({ what: { identifier: { value: 'req-1' } }, type: { code: 'XrequestId' } });
});

test('actions and outcomes', () => {
  const base = { principal: pharmacy, patientIds: [] as string[], requestId: 'r', when };
  expect(buildAuditEvent({ ...base, interaction: 'create', resourceType: 'MedicationDispense', id: 'd1', outcome: 'success' })).toMatchObject({ action: 'C', subtype: [{ code: 'create' }], entity: [{ what: { reference: 'MedicationDispense/d1' }, role: { code: '4' } }, {}] });
  expect(buildAuditEvent({ ...base, interaction: 'read', resourceType: 'Observation', id: 'o1', outcome: 'minor-failure', outcomeDescription: 'pharmacy-prescriptions-only' })).toMatchObject({ action: 'R', outcome: '4', outcomeDesc: 'pharmacy-prescriptions-only' });
  expect(buildAuditEvent({ ...base, interaction: 'update', resourceType: 'Task', id: 't', outcome: 'serious-failure' })).toMatchObject({ action: 'U', outcome: '8' });
  expect(buildAuditEvent({ ...base, interaction: 'delete', resourceType: 'Task', id: 't', outcome: 'major-failure' })).toMatchObject({ action: 'D', outcome: '12' });
  expect([200, 201, 304, 401, 403, 404, 429, 500, 503].map(auditOutcomeForStatus)).toEqual(['success', 'success', 'success', 'minor-failure', 'minor-failure', 'minor-failure', 'minor-failure', 'serious-failure', 'serious-failure']);
});

test('failed authentication: no principal, the claimed client id', () => {
  const ev = buildAuditEvent({ claimedClientId: 'who-knows', interaction: 'authenticate', patientIds: [], outcome: 'minor-failure', outcomeDescription: 'token expired', requestId: 'r9', when });
  expect(ev).toMatchObject({ type: { code: '110114' }, subtype: [{ code: '110122' }], action: 'E', outcome: '4' });
  expect(ev.agent[0].who).toEqual({ identifier: { system: expect.any(String), value: 'who-knows' } });
});

test('a patient reading: the patient is the requesting user', () => {
  const patient: Principal = { kind: 'patient', clientId: 'eid-app', role: 'patient', scopes: ['patient/*.rs'], nationalId: '7501011234', patientId: 'pat-1', subject: 'x', expiresAt: new Date() };
  const ev = buildAuditEvent({ principal: patient, interaction: 'read', resourceType: 'Observation', id: 'o1', patientIds: ['pat-1'], outcome: 'success', requestId: 'r', when });
  expect(ev.agent.find((a) => a.requestor)?.who).toEqual({ reference: 'Patient/pat-1' });
  expect(JSON.stringify(ev)).not.toContain('7501011234');
});

test('recorded in the audit store: stored, versioned and searchable by patient', async () => {
  const ev = { principal: pharmacy, interaction: 'read' as const, resourceType: 'MedicationRequest', id: 'mr1', patientIds: ['pat-42'], outcome: 'success' as const, requestId: 'r1', when };
  const [row] = await inTransaction(h.handle.db, (tx) => trail.recordInTransaction(tx, [ev]));
  const written = (await readAuditEvent(h.handle.db, SERVER_SCOPE, row.id))!;
  expect(written).toMatchObject({ resourceType: 'AuditEvent', meta: { versionId: '1' } });
  await trail.record({ principal: pharmacy, interaction: 'read', resourceType: 'MedicationRequest', id: 'mr2', patientIds: ['pat-43'], outcome: 'success', requestId: 'r2', when });
  expect(await findIds('patient=Patient/pat-42')).toEqual([written.id]);
  expect(await findIds('patient=Patient/pat-43')).toHaveLength(1);
});

test('the audit write shares the caller transaction: a failed request leaves no audit', async () => {
  const ev = { principal: pharmacy, interaction: 'create' as const, resourceType: 'MedicationDispense', id: 'x', patientIds: ['pat-99'], outcome: 'success' as const, requestId: 'r3', when };
  await expect(
    inTransaction(h.handle.db, async (tx) => {
      await trail.recordInTransaction(tx, [ev]);
      throw new Error('the write failed');
    }),
  ).rejects.toThrow('the write failed');
  expect(await findIds('patient=Patient/pat-99')).toEqual([]);
});
