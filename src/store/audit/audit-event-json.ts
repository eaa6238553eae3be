import type { AuditEvent, AuditEventAgent, AuditEventEntity } from '@medplum/fhirtypes';
import type { AccessView } from '../../auth/decide';
import type { AuditRow } from '../../repository/audit-events';
import { FACILITY_CODE_SYSTEM } from '../../shared/registry-systems';
import { CLIENT_ENTITY, toAuditRow, type AuditInput } from './audit-input';

/**
 * The FHIR AuditEvent of a stored row, in the IHE BALP shape (https://profiles.ihe.net/ITI/BALP/):
 * type `rest`, subtype the interaction, action C/R/U/D/E, agents client (+ organization,
 * + patient user) and server, entities the resource, the query (base64, secrets redacted), the
 * patient(s) and the request id. Built on every read, so the stored row stays narrow.
 */
export { auditOutcomeForStatus, type AuditInput, type AuditOutcome } from './audit-input';

export const NHIS_CLIENT_ID_SYSTEM = 'http://opennhis.org/fhir/sid/client-id';
export const ACCESS_RULE_BASE = 'http://opennhis.org/fhir/access-rule/';
const SERVER_NAME = 'OpenNHIS';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const BALP_ENTITY_TYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
const PURPOSE = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const OUTCOME: Record<number, '0' | '4' | '8' | '12'> = { 0: '0', 4: '4', 8: '8', 12: '12' };

type AuditEventJson = AuditEvent & { resourceType: 'AuditEvent' };

function eventBody(row: AuditRow): AuditEventJson {
  const purpose = row.purpose ? [{ coding: [{ system: PURPOSE, code: row.purpose }] }] : undefined;
  const network = row.clientIp ? { address: row.clientIp, type: '2' as const } : undefined;
  const agents: AuditEventAgent[] = [
    {
      type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
      who: row.clientId ? { identifier: { system: NHIS_CLIENT_ID_SYSTEM, value: row.clientId } } : { display: 'unauthenticated caller' },
      requestor: row.actorKind !== 'patient',
      network,
      purposeOfUse: purpose,
      policy: row.rule ? [`${ACCESS_RULE_BASE}${row.rule}`] : undefined,
    },
  ];
  if (row.organization) {
    agents.push({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass', code: 'PROV', display: 'healthcare provider' }] },
      who: { identifier: { system: FACILITY_CODE_SYSTEM, value: row.organization } },
      requestor: false,
    });
  }
  if (row.actorKind === 'patient') {
    agents.push({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
      who: row.patientAgent ? { reference: `Patient/${row.patientAgent}` } : { display: 'patient (not matched to a Patient record)' },
      requestor: true,
      purposeOfUse: purpose,
    });
  }
  agents.push({ type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] }, who: { display: SERVER_NAME }, requestor: false });
  for (const a of agents) for (const k of Object.keys(a) as (keyof AuditEventAgent)[]) if (a[k] === undefined) delete a[k];

  const entities: AuditEventEntity[] = [];
  if (row.entityType === CLIENT_ENTITY && row.entityId) {
    entities.push({ what: { identifier: { system: NHIS_CLIENT_ID_SYSTEM, value: row.entityId } }, type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '5', display: 'Master file' } });
  } else if (row.entityType && row.entityId) {
    const ref = `${row.entityType}/${row.entityId}${row.entityVersion ? `/_history/${row.entityVersion}` : ''}`;
    entities.push({ what: { reference: ref }, type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' } });
  }
  if (row.query !== undefined) {
    const query: AuditEventEntity = {
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      description: row.queryDesc,
      query: Buffer.from(row.query, 'utf8').toString('base64'),
    };
    if (query.description === undefined) delete query.description;
    entities.push(query);
  }
  for (const patientId of row.patientIds) {
    entities.push({ what: { reference: `Patient/${patientId}` }, type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } });
  }
  if (row.requestId !== undefined) {
    entities.push({ what: { identifier: { value: row.requestId } }, type: { system: BALP_ENTITY_TYPE, code: 'XrequestId', display: 'X-Request-Id' } });
  }

  const login = row.eventType === 'login';
  const event: AuditEventJson = {
    resourceType: 'AuditEvent',
    type: login
      ? { system: DCM, code: '110114', display: 'User Authentication' }
      : { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [login ? { system: DCM, code: '110122', display: 'Login' } : { system: 'http://hl7.org/fhir/restful-interaction', code: row.subtype }],
    action: row.action as AuditEvent['action'],
    recorded: row.recorded.toISOString(),
    outcome: OUTCOME[row.outcome] ?? '0',
    agent: agents,
    source: {
      observer: { display: SERVER_NAME },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity: entities,
  };
  if (row.periodStart) event.period = { start: row.periodStart.toISOString(), end: row.recorded.toISOString() };
  if (row.outcomeDesc) event.outcomeDesc = row.outcomeDesc;
  if (purpose) event.purposeOfEvent = purpose;
  return event;
}

/**
 * `own-audit`: what a patient sees of an event in their trail — who acted, when, on what of theirs
 * and with what outcome; never the query (it may name other people) nor the other patients the
 * same event concerns, nor the client's network address.
 */
function ownAuditView(event: AuditEventJson, patientId: string | undefined): AuditEventJson {
  const own = patientId ? `Patient/${patientId}` : undefined;
  const entity = (event.entity ?? []).filter((e) => {
    if (e.query !== undefined || e.role?.code === '24') return false;
    const ref = e.what?.reference;
    return !(ref && ref.startsWith('Patient/') && ref !== own);
  });
  const agent = event.agent.map((a) => {
    const { network: _network, ...rest } = a;
    return rest;
  });
  return { ...event, agent, entity };
}

/** The AuditEvent of a stored row, as `view` lets its reader see it (`viewer`: the patient reading). */
export function auditEventJson(row: AuditRow, view?: AccessView, viewer?: string): AuditEventJson {
  const event: AuditEventJson = row.legacy
    ? (JSON.parse(row.legacy) as AuditEventJson)
    : { ...eventBody(row), id: row.id, meta: { versionId: '1', lastUpdated: row.recorded.toISOString() } };
  if (!row.legacy) {
    // id and meta first, as every stored resource is served.
    const { resourceType, id, meta, ...rest } = event;
    return applyAuditView({ resourceType, id, meta, ...rest } as AuditEventJson, view, viewer);
  }
  return applyAuditView(event, view, viewer);
}

function applyAuditView(event: AuditEventJson, view: AccessView | undefined, viewer: string | undefined): AuditEventJson {
  return view === 'own-audit' ? ownAuditView(event, viewer) : event;
}

/** The AuditEvent an input would be stored as (without id and meta): for tests and documentation. */
export function buildAuditEvent(input: AuditInput): AuditEventJson {
  return eventBody(toAuditRow(input, ''));
}
