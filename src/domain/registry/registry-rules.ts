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

/**
 * The earliest and latest instant (ms) a FHIR date or dateTime can denote: a partial date covers
 * its whole year, month or day, and a date without a zone may be in any zone (UTC+14 .. UTC-12).
 */
function instantRange(value: string): { earliest: number; latest: number } | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(T[^Zz+-]+(?:[Zz]|[+-]\d{2}:\d{2}))?)?)?$/.exec(value);
  if (!m) return undefined;
  if (m[4]) {
    const t = Date.parse(`${m[1]}-${m[2]}-${m[3]}${m[4]}`);
    return Number.isNaN(t) ? undefined : { earliest: t, latest: t };
  }
  const [y, mo, d] = [Number(m[1]), m[2] ? Number(m[2]) - 1 : undefined, m[3] ? Number(m[3]) : undefined];
  const start = Date.UTC(y, mo ?? 0, d ?? 1);
  const end = d !== undefined ? Date.UTC(y, mo!, d + 1) : mo !== undefined ? Date.UTC(y, mo + 1, 1) : Date.UTC(y + 1, 0, 1);
  return { earliest: start - 14 * 3_600_000, latest: end + 12 * 3_600_000 - 1 };
}

/**
 * Whether a prescription authored `at` is a new order for a patient already dead then. Instants
 * are compared, not calendar days: a record dated at or before the death (or possibly so, for
 * partial dates) is history. Without authoredOn the prescription is new now, after any death.
 */
function isDeceasedBy(patient: Record<string, unknown>, at: string | undefined): boolean {
  if (patient.deceasedBoolean === true) return true;
  const died = typeof patient.deceasedDateTime === 'string' ? instantRange(patient.deceasedDateTime) : undefined;
  if (!died) return false;
  if (at === undefined) return true;
  const authored = instantRange(at);
  return authored !== undefined && authored.earliest > died.latest;
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
