import type { Interaction } from '../../auth/decide';
import type { Principal } from '../../auth/principal';
import type { AuditRow } from '../../repository/audit-events';

/**
 * What happened, as the request path knows it: the input of one AuditEvent (IHE Basic Audit Log
 * Patterns, https://profiles.ihe.net/ITI/BALP/). It becomes a compact row (`toAuditRow`), and the
 * FHIR AuditEvent is built from the row when read (./audit-event-json.ts).
 */
export type AuditOutcome = 'success' | 'minor-failure' | 'serious-failure' | 'major-failure';

export interface AuditInput {
  /** Undefined when authentication itself failed, or for the server's own scheduled work. */
  principal?: Principal;
  /** Failed authentication: the client id the request claimed, if any (not verified). The server's own work: its name. */
  claimedClientId?: string;
  interaction: Interaction | 'authenticate';
  resourceType?: string;
  id?: string;
  versionId?: string;
  operation?: string;
  /** The search or operation query string as received (without `?`); secrets are redacted before it is stored. */
  query?: string;
  /** Patient resource ids whose data the interaction touched. */
  patientIds: string[];
  outcome: AuditOutcome;
  /** Why it failed (the deciding rule, the 401 reason); never health data or tokens. */
  outcomeDescription?: string;
  /** v3 PurposeOfUse code, e.g. TREAT, ETREAT, HPAYMT, PUBHLTH. */
  purposeOfUse?: string;
  /** The access rule that allowed (or refused) it. */
  rule?: string;
  /** A change to the client registry: the client registered, changed or deactivated (instead of a resource). */
  administeredClient?: string;
  requestId: string;
  clientIp?: string;
  when: Date;
  /** An event standing for many (aggregated refusals): when the first of them happened (`when` is the last). */
  since?: Date;
}

export const OUTCOME_CODE: Record<AuditOutcome, 0 | 4 | 8 | 12> = {
  success: 0,
  'minor-failure': 4,
  'serious-failure': 8,
  'major-failure': 12,
};

/** HTTP status → BALP outcome: 2xx/3xx success, 4xx minor (refused, not found), 5xx serious. */
export function auditOutcomeForStatus(status: number): AuditOutcome {
  if (status < 400) return 'success';
  if (status < 500) return 'minor-failure';
  return 'serious-failure';
}

/**
 * Query parameters whose values are credentials: an ePrescription's access code and claim secret,
 * OAuth codes and tokens. They never reach the audit trail (nor a log line): the parameter stays,
 * so an auditor sees that one was given, its value does not.
 */
const SECRET_PARAMS = new Set(['ac', 'secret', 'code', 'code_verifier', 'access_token', 'id_token', 'refresh_token', 'token', 'client_assertion', 'client_secret', 'password', 'assertion']);
export const REDACTED = 'REDACTED';

/** The entity type of an event about a registered client (not a FHIR resource). */
export const CLIENT_ENTITY = 'client';

export function redactQuery(query: string): string {
  if (!query) return query;
  const params = new URLSearchParams(query);
  let changed = false;
  for (const key of new Set(params.keys())) {
    if (SECRET_PARAMS.has(key.toLowerCase())) {
      const n = params.getAll(key).length;
      params.delete(key);
      for (let i = 0; i < n; i++) params.append(key, REDACTED);
      changed = true;
    }
  }
  return changed ? params.toString() : query;
}

function subtypeOf(input: AuditInput): string {
  switch (input.interaction) {
    case 'authenticate':
      return 'login';
    case 'search':
      return input.resourceType ? 'search-type' : 'search-system';
    case 'history':
      return input.id ? 'history-instance' : input.resourceType ? 'history-type' : 'history-system';
    default:
      return input.interaction;
  }
}

function actionOf(interaction: AuditInput['interaction']): string {
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

/** The stored row of one event. */
export function toAuditRow(input: AuditInput, id: string): AuditRow {
  const p = input.principal;
  const hasQuery = input.query !== undefined && (input.interaction === 'search' || input.interaction === 'operation' || input.query !== '');
  return {
    id,
    recorded: input.when,
    periodStart: input.since,
    eventType: input.interaction === 'authenticate' ? 'login' : 'rest',
    subtype: subtypeOf(input),
    operation: input.operation,
    action: actionOf(input.interaction),
    outcome: OUTCOME_CODE[input.outcome],
    outcomeDesc: input.outcomeDescription,
    actorKind: p?.kind,
    clientId: p?.clientId ?? input.claimedClientId,
    organization: p?.organization,
    role: p?.role,
    patientAgent: p?.kind === 'patient' ? (p.patientId ?? '') : undefined,
    purpose: input.purposeOfUse,
    patientIds: [...new Set(input.patientIds)],
    entityType: input.administeredClient ? CLIENT_ENTITY : input.resourceType && input.id ? input.resourceType : undefined,
    entityId: input.administeredClient ?? (input.resourceType && input.id ? input.id : undefined),
    entityVersion: !input.administeredClient && input.resourceType && input.id ? input.versionId : undefined,
    query: hasQuery ? redactQuery(input.query ?? '') : undefined,
    queryDesc: hasQuery ? (input.resourceType ? `${input.resourceType}${input.operation ? ` ${input.operation}` : ''}` : input.operation) : undefined,
    requestId: input.requestId,
    clientIp: input.clientIp,
    rule: input.rule,
  };
}
