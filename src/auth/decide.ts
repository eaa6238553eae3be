import { FhirError } from '../errors/fhir-error';
import type { Principal } from './principal';
import { REGISTRY_TYPES, type Role } from './roles';
import { parseScope, type Permission, type ResourceScope } from './scopes';

/**
 * Every access decision of the server, in one place. Default deny: a request
 * is allowed only if its role rule allows it AND a granted scope covers it.
 * Each denial names the rule that decided it (logged and audited, and shown
 * in the 403 OperationOutcome).
 */
export type Interaction = 'read' | 'vread' | 'search' | 'create' | 'update' | 'delete' | 'history' | 'operation';

export interface AccessAction {
  interaction: Interaction;
  resourceType: string;
  /** For `operation`: its name, e.g. `$everything`. */
  operation?: string;
}

export interface AccessGranted {
  allowed: true;
  /** The request must be confined to this Patient's compartment (patient tokens). */
  patientCompartment?: string;
  /**
   * Granular scopes: the resource must match at least one of these search
   * queries (e.g. `category=laboratory`); undefined when unrestricted.
   */
  matchAny?: string[];
  /**
   * Serve a subset: `demographics` (a pharmacy reading Patient: who the person is, nothing of their
   * care); `own-audit` (a patient reading AuditEvents: only what concerns them, never the query or
   * other people named in the same event).
   */
  view?: AccessView;
  /** The rule and scope that allowed it, for the audit trail. */
  rule: string;
  scope: string;
}

export interface AccessDenied {
  allowed: false;
  /** `<rule>: <why>` — names the rule that decided. */
  reason: string;
  rule: string;
}

export type AccessDecision = AccessGranted | AccessDenied;

export type AccessView = 'demographics' | 'own-audit';

export interface DecideOptions {
  /** REGISTRY_MODE=open lets clinical clients create registry resources. */
  registryMode?: 'open' | 'closed';
}

/** What each operation does to data; unknown operations are denied. */
export const OPERATION_PERMISSIONS: Record<string, Permission> = {
  $everything: 'r',
  $validate: 'r',
  $meta: 'r',
  $lookup: 'r',
  $expand: 'r',
  '$validate-code': 'r',
  // ePrescription workflow (domain/prescription checks the actor again: who prescribed, which pharmacy holds the claim).
  $prescribe: 'c',
  $timeline: 'r',
  $accept: 'u',
  $reject: 'u',
  $dispense: 'u',
  $close: 'u',
  $abort: 'u',
  // Identity: matching and cross-referencing search the registry; merging rewrites it.
  $match: 's',
  '$ihe-pix': 's',
  $merge: 'u',
};

/** Task operations a pharmacy performs on a prescription it claims. */
const PHARMACY_TASK_OPERATIONS: ReadonlySet<string> = new Set(['$accept', '$reject', '$dispense', '$close']);
/** Operations a patient may run; all stay inside the patient's own compartment or touch no patient data. */
const PATIENT_OPERATIONS: ReadonlySet<string> = new Set(['$everything', '$timeline', '$validate', '$meta', '$lookup', '$expand', '$validate-code']);

const READS: ReadonlySet<Interaction> = new Set(['read', 'vread', 'search', 'history']);
const CLINICAL_ROLES: ReadonlySet<Role> = new Set(['hospital', 'prescriber', 'laboratory']);
const PHARMACY_READS: ReadonlySet<string> = new Set(['MedicationRequest', 'Task', 'Patient', 'Medication', 'Practitioner', 'PractitionerRole', 'Organization']);

function permissionOf(action: AccessAction): Permission | undefined {
  switch (action.interaction) {
    case 'read':
    case 'vread':
    case 'history':
      return 'r';
    case 'search':
      return 's';
    case 'create':
      return 'c';
    case 'update':
      return 'u';
    case 'delete':
      return 'd';
    case 'operation':
      return action.operation ? OPERATION_PERMISSIONS[action.operation] : undefined;
  }
}

const deny = (rule: string, why: string): AccessDenied => ({ allowed: false, rule, reason: `${rule}: ${why}` });

/** The role rule: undefined means "the role allows it (scopes still decide)". */
function roleRule(principal: Principal, action: AccessAction, isRead: boolean, opts: DecideOptions): AccessDenied | { rule: string; view?: AccessView } {
  const { resourceType } = action;
  if (resourceType === 'AuditEvent' && !isRead) return deny('audit-immutable', 'AuditEvents cannot be written through the API');
  switch (principal.role) {
    case 'patient':
      // The one write a patient makes: cancelling their own prescription before a pharmacy holds it
      // (domain/prescription/abort.ts checks it is theirs; the scope patient/Task.u must be granted).
      if (action.interaction === 'operation' && action.operation === '$abort' && resourceType === 'Task') return { rule: 'patient-cancels-own-prescription' };
      if (!isRead) return deny('patient-read-only', 'patient tokens are read-only');
      if (action.interaction === 'operation' && !PATIENT_OPERATIONS.has(action.operation ?? '')) {
        return deny('patient-operations', `a patient may not run ${action.operation ?? 'this operation'}`);
      }
      if (resourceType === 'AuditEvent') return { rule: 'patient-own-audit-trail', view: 'own-audit' };
      return { rule: 'patient-own-compartment' };
    case 'auditor':
      if (action.operation === '$timeline' && resourceType === 'MedicationRequest') return { rule: 'auditor-reads-prescription-timeline' };
      return resourceType === 'AuditEvent' && isRead ? { rule: 'auditor-reads-audit' } : deny('auditor-audit-only', 'auditors read AuditEvent only');
    case 'analyst':
      return deny('analyst-aggregate-only', 'analysts read aggregate and de-identified data only');
    case 'operator':
      return deny('operator-no-data', 'operators administer clients and read no FHIR data');
    case 'registry-admin':
      if (REGISTRY_TYPES.has(resourceType)) return { rule: 'registry-admin-registries' };
      return deny('registry-admin-registries-only', `registry administrators access registry resources only, not ${resourceType}`);
    case 'pharmacy':
      if (action.interaction === 'operation' && resourceType === 'Task' && PHARMACY_TASK_OPERATIONS.has(action.operation ?? '')) {
        return { rule: 'pharmacy-prescription-workflow' };
      }
      if (action.operation === '$timeline' && resourceType === 'MedicationRequest') return { rule: 'pharmacy-reads-prescription-timeline' };
      // Plain reads only: an operation such as Patient/$everything would reach other clinical data.
      if (isRead && action.interaction !== 'operation' && PHARMACY_READS.has(resourceType)) return { rule: 'pharmacy-reads-prescriptions', view: resourceType === 'Patient' ? 'demographics' : undefined };
      if (action.interaction === 'create' && resourceType === 'MedicationDispense') return { rule: 'pharmacy-records-dispense' };
      return deny('pharmacy-prescriptions-only', `a pharmacy may not ${action.interaction} ${resourceType}`);
    case 'hospital':
    case 'prescriber':
    case 'laboratory':
      if (resourceType === 'AuditEvent') return deny('audit-readers-only', 'only auditors and patients read AuditEvents');
      if (!isRead && REGISTRY_TYPES.has(resourceType)) {
        if (action.interaction === 'create' && opts.registryMode === 'open') return { rule: 'registry-open-create' };
        return deny('registry-writes-admin-only', `only registry administrators write ${resourceType}`);
      }
      return { rule: 'clinical-read-write' };
  }
}

function scopeMatches(scope: ResourceScope, principal: Principal, resourceType: string, permission: Permission): boolean {
  const context = principal.kind === 'patient' ? ['patient'] : ['system', 'user'];
  return context.includes(scope.context) && (scope.resourceType === '*' || scope.resourceType === resourceType) && scope.permissions.has(permission);
}

export function decide(principal: Principal, action: AccessAction, opts: DecideOptions = {}): AccessDecision {
  if (!CLINICAL_ROLES.has(principal.role) && !['patient', 'auditor', 'analyst', 'registry-admin', 'pharmacy', 'operator'].includes(principal.role)) {
    return deny('unknown-role', `role ${principal.role} has no rules`);
  }
  const permission = permissionOf(action);
  if (!permission) return deny('operation-unknown', `operation ${action.operation ?? '(none)'} has no access rule`);
  const isRead = READS.has(action.interaction) || (action.interaction === 'operation' && (permission === 'r' || permission === 's'));
  const role = roleRule(principal, action, isRead, opts);
  if ('allowed' in role) return role;

  const granting = principal.scopes.map(parseScope).filter((s): s is ResourceScope => !!s && scopeMatches(s, principal, action.resourceType, permission));
  if (granting.length === 0) {
    return deny('scope-missing', `no granted scope allows '${permission}' on ${action.resourceType}`);
  }
  const unrestricted = granting.find((s) => !s.query);
  const decision: AccessGranted = {
    allowed: true,
    rule: role.rule,
    scope: unrestricted ? formatScopeShort(unrestricted) : granting.map(formatScopeShort).join(' '),
  };
  if (!unrestricted) decision.matchAny = granting.map((s) => s.query as string);
  if (role.view) decision.view = role.view;
  if (principal.kind === 'patient') {
    if (!principal.patientId) return deny('patient-unresolved', 'the national id does not match a Patient');
    decision.patientCompartment = principal.patientId;
  }
  return decision;
}

function formatScopeShort(s: ResourceScope): string {
  return `${s.context}/${s.resourceType}.${['c', 'r', 'u', 'd', 's'].filter((p) => s.permissions.has(p as Permission)).join('')}${s.query ? `?${s.query}` : ''}`;
}

/**
 * Throws the 403 for a denial. Callers that must not reveal existence (a
 * read of a resource outside the patient's compartment) answer 404 instead;
 * that choice belongs to the read path, which knows the compartment.
 */
export function assertAllowed(decision: AccessDecision): AccessGranted {
  if (decision.allowed) return decision;
  throw FhirError.forbidden(`Access denied by rule ${decision.reason}`, { code: 'NHIS-1403' });
}
