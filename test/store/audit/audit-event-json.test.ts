// The AuditEvents the server builds from its audit rows are valid R4 resources (issue 11: what the
// server builds itself is validated too): every shape the trail produces passes the same validator
// as client data, and a patient's view of an event is a valid AuditEvent as well.
import type { Principal } from '../../../src/auth/principal';
import { auditEventJson, buildAuditEvent } from '../../../src/store/audit/audit-event-json';
import { toAuditRow, type AuditInput } from '../../../src/store/audit/audit-input';
import { validateResource } from '../../../src/validation';

const when = new Date('2026-12-01T10:00:00Z');
const pharmacy: Principal = { kind: 'client', clientId: 'pharm-1', role: 'pharmacy', organization: 'PH001', scopes: [], subject: 'pharm-1', expiresAt: when };
const patient: Principal = { kind: 'patient', clientId: 'eid', role: 'patient', scopes: [], patientId: 'pat-1', subject: 's', expiresAt: when };

const shapes: [string, AuditInput][] = [
  ['a read', { principal: pharmacy, interaction: 'read', resourceType: 'MedicationRequest', id: 'mr1', versionId: '2', patientIds: ['pat-1'], outcome: 'success', rule: 'pharmacy-reads-prescriptions', requestId: 'r1', clientIp: '10.0.0.1', when }],
  ['a search with its query', { principal: pharmacy, interaction: 'search', resourceType: 'MedicationRequest', query: 'subject=Patient/pat-1&ac=secret', patientIds: ['pat-1', 'pat-2'], outcome: 'success', purposeOfUse: 'TREAT', requestId: 'r2', when }],
  ['an operation refused', { principal: pharmacy, interaction: 'operation', resourceType: 'Task', id: 't', operation: '$accept', query: 'ac=x', patientIds: [], outcome: 'minor-failure', outcomeDescription: 'wrong access code', requestId: 'r3', when }],
  ['a patient reading', { principal: patient, interaction: 'read', resourceType: 'Observation', id: 'o1', patientIds: ['pat-1'], outcome: 'success', requestId: 'r4', when }],
  ['a failed authentication', { claimedClientId: 'who-knows', interaction: 'authenticate', patientIds: [], outcome: 'minor-failure', outcomeDescription: 'token expired', requestId: 'r5', when }],
  ["the server's own change", { claimedClientId: 'opennhis-server', interaction: 'update', resourceType: 'Task', id: 't', versionId: '3', patientIds: ['pat-1'], outcome: 'success', requestId: 'expiry', when }],
  ['a client registered', { claimedClientId: 'operator-bootstrap', interaction: 'create', administeredClient: 'pharm-2', patientIds: [], outcome: 'success', requestId: 'r6', when }],
];

test.each(shapes)('%s: a valid AuditEvent, whole and in the patient view', (_name, input) => {
  const row = toAuditRow(input, 'ae-1');
  for (const event of [auditEventJson(row), auditEventJson(row, 'own-audit', 'pat-1')]) {
    const errors = validateResource(event as never, { expectedType: 'AuditEvent' }).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    expect(errors).toEqual([]);
  }
});

test('the query is stored with its secrets redacted, and the patient view drops it with the other patients', () => {
  const row = toAuditRow(shapes[1][1], 'ae-2');
  expect(row.query).toBe('subject=Patient%2Fpat-1&ac=REDACTED');
  const own = auditEventJson(row, 'own-audit', 'pat-1');
  expect(JSON.stringify(own)).not.toContain('pat-2');
  expect(own.entity!.some((e) => e.query !== undefined)).toBe(false);
  expect(buildAuditEvent(shapes[1][1]).entity!.some((e) => e.query !== undefined)).toBe(true);
});
