import type { Issue } from '../../errors/fhir-error';
import { FACILITY_TYPE_SYSTEM } from './registry-systems';

/**
 * Consistency rules users expect of clinical data, checked against the
 * registry entries its references resolved to. Pure: the caller resolves.
 */
export interface ResolvedReference {
  path: string;
  type: string;
  id: string;
  target: Record<string, unknown>;
}

type Resource = { resourceType: string; meta?: { versionId?: unknown } } & Record<string, unknown>;

function rule(path: string, nhisCode: string, diagnostics: string): Issue {
  return { severity: 'error', code: 'business-rule', diagnostics, expression: [path], nhisCode };
}

function isDeceasedBy(patient: Record<string, unknown>, at: string | undefined): boolean {
  if (patient.deceasedBoolean === true) return true;
  const died = typeof patient.deceasedDateTime === 'string' ? patient.deceasedDateTime : undefined;
  if (!died) return false;
  // Without authoredOn the prescription is new now, after the death.
  return at === undefined || at.slice(0, 10) >= died.slice(0, 10);
}

function periodCovers(period: unknown, at: string): boolean {
  const p = (period ?? {}) as { start?: unknown; end?: unknown };
  const day = at.slice(0, 10);
  if (typeof p.start === 'string' && day < p.start.slice(0, 10)) return false;
  if (typeof p.end === 'string' && day > p.end.slice(0, 10)) return false;
  return true;
}

function hasCode(concepts: unknown, system: string, code: string): boolean {
  return (
    Array.isArray(concepts) &&
    concepts.some((c) => Array.isArray((c as { coding?: unknown })?.coding) && (c as { coding: { system?: unknown; code?: unknown }[] }).coding.some((x) => x?.system === system && x?.code === code))
  );
}

export function checkRegistryRules(resource: Resource, resolved: ResolvedReference[]): Issue[] {
  const issues: Issue[] = [];
  const isNew = resource.meta?.versionId === undefined || resource.meta.versionId === '1';
  const rt = resource.resourceType;
  const authoredOn = typeof resource.authoredOn === 'string' ? resource.authoredOn : undefined;
  for (const r of resolved) {
    if (rt === 'MedicationRequest' && isNew && r.path === 'MedicationRequest.subject' && r.type === 'Patient' && isDeceasedBy(r.target, authoredOn)) {
      issues.push(rule(r.path, 'NHIS-3210', `Patient/${r.id} is deceased; no new prescription can be issued`));
    }
    if (rt === 'MedicationRequest' && r.path === 'MedicationRequest.requester' && r.type === 'PractitionerRole' && authoredOn && !periodCovers(r.target.period, authoredOn)) {
      issues.push(rule(r.path, 'NHIS-3211', `PractitionerRole/${r.id} is not active at authoredOn ${authoredOn}`));
    }
    if (rt === 'MedicationDispense' && /^MedicationDispense\.performer\[\d+\]\.actor$/.test(r.path) && r.type === 'Organization' && !hasCode(r.target.type, FACILITY_TYPE_SYSTEM, 'pharmacy')) {
      issues.push(rule(r.path, 'NHIS-3212', `Organization/${r.id} is not a pharmacy (Organization.type ${FACILITY_TYPE_SYSTEM}#pharmacy); only pharmacies dispense`));
    }
  }
  return issues;
}
