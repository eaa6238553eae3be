import { FACILITY_CODE_SYSTEM } from '../registry/registry-systems';
import type { AuditEvent, AuditEventAgent, AuditEventEntity } from '@medplum/fhirtypes';
import type { Interaction } from '../../auth/decide';
import type { Principal } from '../../auth/principal';

/**
 * One AuditEvent per interaction, following IHE Basic Audit Log Patterns
 * (BALP, https://profiles.ihe.net/ITI/BALP/): type `rest`, subtype the
 * interaction, action C/R/U/D/E, agents client (+ organization, + patient
 * user) and server, entities the resource, the query (base64), the patient(s)
 * and the request id. A pure function: the caller stores it.
 */
export type AuditOutcome = 'success' | 'minor-failure' | 'serious-failure' | 'major-failure';

export interface AuditInput {
  /** Undefined when authentication itself failed. */
  principal?: Principal;
  /** Failed authentication: the client id the request claimed, if any (not verified). */
  claimedClientId?: string;
  interaction: Interaction | 'authenticate';
  resourceType?: string;
  id?: string;
  versionId?: string;
  operation?: string;
  /** The search or operation query string as received (without `?`). */
  query?: string;
  /** Patient resource ids whose data the interaction touched. */
  patientIds: string[];
  outcome: AuditOutcome;
  /** Why it failed (the deciding rule, the 401 reason); never health data or tokens. */
  outcomeDescription?: string;
  /** v3 PurposeOfUse code, e.g. TREAT, ETREAT, HPAYMT, PUBHLTH. */
  purposeOfUse?: string;
  requestId: string;
  clientIp?: string;
  when: Date;
  /** Server identity for the observer and destination agent. */
  serverName?: string;
}

export const NHIS_CLIENT_ID_SYSTEM = 'http://opennhis.org/fhir/sid/client-id';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const BALP_ENTITY_TYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
const PURPOSE = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

const OUTCOME_CODE: Record<AuditOutcome, '0' | '4' | '8' | '12'> = {
  success: '0',
  'minor-failure': '4',
  'serious-failure': '8',
  'major-failure': '12',
};

/** HTTP status → BALP outcome: 2xx/3xx success, 4xx minor (refused, not found), 5xx serious. */
export function auditOutcomeForStatus(status: number): AuditOutcome {
  if (status < 400) return 'success';
  if (status < 500) return 'minor-failure';
  return 'serious-failure';
}

function subtypeOf(input: AuditInput): { system: string; code: string; display?: string } {
  if (input.interaction === 'authenticate') return { system: DCM, code: '110122', display: 'Login' };
  const code: Record<Interaction, string> = {
    read: 'read',
    vread: 'vread',
    search: input.resourceType ? 'search-type' : 'search-system',
    create: 'create',
    update: 'update',
    delete: 'delete',
    history: input.id ? 'history-instance' : input.resourceType ? 'history-type' : 'history-system',
    operation: 'operation',
  };
  return { system: 'http://hl7.org/fhir/restful-interaction', code: code[input.interaction] };
}

function actionOf(interaction: AuditInput['interaction']): AuditEvent['action'] {
  switch (interaction) {
    case 'create':
      return 'C';
    case 'read':
    case 'vread':
    case 'history':
      return 'R';
    case 'update':
      return 'U';
    case 'delete':
      return 'D';
    default:
      return 'E'; // search, operation, authenticate: BALP "execute"
  }
}

export function buildAuditEvent(input: AuditInput): AuditEvent & { resourceType: 'AuditEvent' } {
  const p = input.principal;
  const purpose = input.purposeOfUse ? [{ coding: [{ system: PURPOSE, code: input.purposeOfUse }] }] : undefined;
  const clientId = p?.clientId ?? input.claimedClientId;
  const network = input.clientIp ? { address: input.clientIp, type: '2' as const } : undefined;

  const agents: AuditEventAgent[] = [
    {
      type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
      who: clientId ? { identifier: { system: NHIS_CLIENT_ID_SYSTEM, value: clientId } } : { display: 'unauthenticated caller' },
      requestor: p?.kind !== 'patient',
      network,
      purposeOfUse: purpose,
    },
  ];
  if (p?.organization) {
    agents.push({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass', code: 'PROV', display: 'healthcare provider' }] },
      who: { identifier: { system: FACILITY_CODE_SYSTEM, value: p.organization } },
      requestor: false,
    });
  }
  if (p?.kind === 'patient') {
    agents.push({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
      who: p.patientId ? { reference: `Patient/${p.patientId}` } : { display: 'patient (not matched to a Patient record)' },
      requestor: true,
      purposeOfUse: purpose,
    });
  }
  agents.push({
    type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] },
    who: { display: input.serverName ?? 'OpenNHIS' },
    requestor: false,
  });

  const entities: AuditEventEntity[] = [];
  if (input.resourceType && input.id) {
    const ref = `${input.resourceType}/${input.id}${input.versionId ? `/_history/${input.versionId}` : ''}`;
    entities.push({ what: { reference: ref }, type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' } });
  }
  if (input.query !== undefined && (input.interaction === 'search' || input.interaction === 'operation' || input.query)) {
    entities.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      description: input.resourceType ? `${input.resourceType}${input.operation ? ` ${input.operation}` : ''}` : input.operation,
      query: Buffer.from(input.query, 'utf8').toString('base64'),
    });
  }
  for (const patientId of [...new Set(input.patientIds)]) {
    entities.push({ what: { reference: `Patient/${patientId}` }, type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } });
  }
  entities.push({ what: { identifier: { value: input.requestId } }, type: { system: BALP_ENTITY_TYPE, code: 'XrequestId', display: 'X-Request-Id' } });

  const event: AuditEvent & { resourceType: 'AuditEvent' } = {
    resourceType: 'AuditEvent',
    type: {
      system: input.interaction === 'authenticate' ? DCM : 'http://terminology.hl7.org/CodeSystem/audit-event-type',
      code: input.interaction === 'authenticate' ? '110114' : 'rest',
      display: input.interaction === 'authenticate' ? 'User Authentication' : 'RESTful Operation',
    },
    subtype: [subtypeOf(input)],
    action: actionOf(input.interaction),
    recorded: input.when.toISOString(),
    outcome: OUTCOME_CODE[input.outcome],
    agent: agents,
    source: {
      observer: { display: input.serverName ?? 'OpenNHIS' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity: entities,
  };
  if (input.outcomeDescription) event.outcomeDesc = input.outcomeDescription;
  if (purpose) event.purposeOfEvent = purpose;
  return event;
}
