// Authorization in one place: SMART v2 scopes (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html) + role rules.
import { decide, type AccessAction, type Interaction } from '../../src/auth/decide';
import type { Principal } from '../../src/auth/principal';
import type { Role } from '../../src/auth/roles';
import { ROLE_DEFAULT_SCOPES } from '../../src/auth/development-credentials';
import { grantScopes, parseScope } from '../../src/auth/scopes';

const principal = (role: Role, scopes?: string[], extra: Partial<Principal> = {}): Principal => ({
  kind: role === 'patient' ? 'patient' : 'client',
  clientId: `c-${role}`,
  role,
  scopes: scopes ?? (role === 'patient' ? ['patient/*.rs'] : ROLE_DEFAULT_SCOPES[role]),
  subject: 's',
  expiresAt: new Date(Date.now() + 60_000),
  ...extra,
});
const act = (interaction: Interaction, resourceType: string, operation?: string): AccessAction => ({ interaction, resourceType, operation });
const verdict = (p: Principal, a: AccessAction, opts = {}) => {
  const d = decide(p, a, opts);
  return d.allowed ? 'allow' : d.rule;
};

describe('scopes', () => {
  test('v2 and v1 parse; bad ones do not', () => {
    expect(parseScope('system/MedicationRequest.rs')).toMatchObject({ context: 'system', resourceType: 'MedicationRequest' });
    expect([...parseScope('patient/Observation.read')!.permissions]).toEqual(['r', 's']);
    expect([...parseScope('user/*.write')!.permissions]).toEqual(['c', 'u', 'd']);
    expect(parseScope('system/Observation.rs?category=laboratory')!.query).toBe('category=laboratory');
    for (const bad of ['system/Observation.sr', 'system/Observation.x', 'openid', 'system/observation.rs', 'system/Observation.read?category=x', 'system/*.']) {
      expect([bad, parseScope(bad)]).toEqual([bad, undefined]);
    }
  });
  test('intersection of requested and allowed', () => {
    expect(grantScopes(['system/*.cruds'], ['system/Observation.rs', 'system/Patient.r'], ['system'])).toEqual(['system/Observation.rs', 'system/Patient.r']);
    expect(grantScopes(['system/Observation.cruds'], ['system/*.rs'], ['system'])).toEqual(['system/Observation.rs']);
    expect(grantScopes(['system/Observation.write'], ['system/Observation.rs'], ['system'])).toEqual([]);
    expect(grantScopes(['patient/*.rs'], ['system/*.cruds'], ['system'])).toEqual([]);
    expect(grantScopes(['system/Observation.rs?category=vital-signs'], ['system/Observation.rs?category=laboratory'], ['system'])).toEqual([]);
    expect(grantScopes(['system/Observation.rs?category=laboratory'], ['system/*.rs'], ['system'])).toEqual(['system/Observation.rs?category=laboratory']);
  });
});

describe('role rules matrix (default role scopes)', () => {
  const cases: [Role, Interaction, string, string][] = [
    ['pharmacy', 'read', 'MedicationRequest', 'allow'],
    ['pharmacy', 'search', 'Task', 'allow'],
    ['pharmacy', 'read', 'Patient', 'allow'],
    ['pharmacy', 'create', 'MedicationDispense', 'allow'],
    ['pharmacy', 'read', 'Observation', 'pharmacy-prescriptions-only'],
    ['pharmacy', 'search', 'Condition', 'pharmacy-prescriptions-only'],
    ['pharmacy', 'update', 'MedicationRequest', 'pharmacy-prescriptions-only'],
    ['pharmacy', 'create', 'Patient', 'pharmacy-prescriptions-only'],
    ['registry-admin', 'create', 'Patient', 'allow'],
    ['registry-admin', 'update', 'Organization', 'allow'],
    ['registry-admin', 'read', 'Observation', 'registry-admin-registries-only'],
    ['hospital', 'create', 'Patient', 'registry-writes-admin-only'],
    ['hospital', 'update', 'Practitioner', 'registry-writes-admin-only'],
    ['hospital', 'read', 'Patient', 'allow'],
    ['hospital', 'create', 'Observation', 'allow'],
    ['prescriber', 'create', 'MedicationRequest', 'allow'],
    ['laboratory', 'create', 'DiagnosticReport', 'allow'],
    ['hospital', 'read', 'AuditEvent', 'audit-readers-only'],
    ['hospital', 'create', 'AuditEvent', 'audit-immutable'],
    ['analyst', 'search', 'Observation', 'analyst-aggregate-only'],
    ['analyst', 'read', 'Patient', 'analyst-aggregate-only'],
    ['auditor', 'search', 'AuditEvent', 'allow'],
    ['auditor', 'read', 'Patient', 'auditor-audit-only'],
    ['auditor', 'delete', 'AuditEvent', 'audit-immutable'],
    ['patient', 'read', 'Observation', 'allow'],
    ['patient', 'search', 'AuditEvent', 'allow'],
    ['patient', 'create', 'Observation', 'patient-read-only'],
    ['patient', 'update', 'Patient', 'patient-read-only'],
  ];
  test.each(cases)('%s %s %s → %s', (role, interaction, type, expected) => {
    expect(verdict(principal(role, undefined, { patientId: 'p1' }), act(interaction, type))).toBe(expected);
  });

  test('REGISTRY_MODE=open lets clinical clients create (not update) registry resources', () => {
    expect(verdict(principal('hospital'), act('create', 'Patient'), { registryMode: 'open' })).toBe('allow');
    expect(verdict(principal('hospital'), act('update', 'Patient'), { registryMode: 'open' })).toBe('registry-writes-admin-only');
  });
});

describe('scopes decide within the role', () => {
  test('write with a read scope, other types: scope-missing', () => {
    const p = principal('hospital', ['system/Observation.rs']);
    expect(verdict(p, act('read', 'Observation'))).toBe('allow');
    expect(verdict(p, act('create', 'Observation'))).toBe('scope-missing');
    expect(verdict(p, act('read', 'Condition'))).toBe('scope-missing');
    expect(verdict(principal('hospital', ['system/Observation.r']), act('search', 'Observation'))).toBe('scope-missing');
  });
  test('a client with patient/ scopes gets nothing; a patient with system/ scopes gets nothing', () => {
    expect(verdict(principal('hospital', ['patient/*.rs']), act('read', 'Observation'))).toBe('scope-missing');
    expect(verdict(principal('patient', ['system/*.cruds'], { patientId: 'p1' }), act('read', 'Observation'))).toBe('scope-missing');
  });
  test('granular scope: allowed with a filter to apply', () => {
    const d = decide(principal('laboratory', ['system/Observation.rs?category=laboratory']), act('search', 'Observation'));
    expect(d).toMatchObject({ allowed: true, matchAny: ['category=laboratory'] });
  });
  test('patient: confined to the compartment; unresolved patient denied', () => {
    expect(decide(principal('patient', undefined, { patientId: 'p1' }), act('search', 'Observation'))).toMatchObject({ allowed: true, patientCompartment: 'p1' });
    expect(verdict(principal('patient'), act('read', 'Observation'))).toBe('patient-unresolved');
  });
  test('pharmacy reads Patient demographics only', () => {
    expect(decide(principal('pharmacy'), act('read', 'Patient'))).toMatchObject({ allowed: true, view: 'demographics' });
  });
  test('operations: known ones by their effect, unknown denied', () => {
    expect(verdict(principal('hospital'), act('operation', 'Patient', '$everything'))).toBe('allow');
    expect(verdict(principal('hospital'), act('operation', 'Patient', '$purge'))).toBe('operation-unknown');
    // $everything would reach other clinical data: not for a pharmacy.
    expect(verdict(principal('pharmacy'), act('operation', 'Patient', '$everything'))).toBe('pharmacy-prescriptions-only');
  });
  test('denials name the rule', () => {
    const d = decide(principal('pharmacy'), act('read', 'Observation'));
    expect(d).toEqual({ allowed: false, rule: 'pharmacy-prescriptions-only', reason: 'pharmacy-prescriptions-only: a pharmacy may not read Observation' });
  });
});
