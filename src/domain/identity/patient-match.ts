import type { Address, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import type { NationalIdScheme } from '../../shared/national-id';
import { schemeForSystem } from '../../shared/national-id';
import { foldName, nameSimilarity } from './name-similarity';

/** http://hl7.org/fhir/StructureDefinition/match-grade */
export type MatchGrade = 'certain' | 'probable' | 'possible' | 'certainly-not';

export interface MatchScore {
  score: number;
  grade: MatchGrade;
  /** Name, birth date, gender and address alone, ignoring identifiers. */
  demographic: number;
  identifiers: IdentifierVerdict;
}

/** Weights of the demographic evidence; a missing element counts half (neither for nor against). */
const WEIGHTS = { name: 0.4, birthDate: 0.35, gender: 0.1, address: 0.15 };
const PROBABLE = 0.8;
const POSSIBLE = 0.6;

interface Evidence {
  /** Similarity in [0, 1], or undefined when either side lacks the element. */
  name?: number;
  birthDate?: number;
  gender?: number;
  address?: number;
}

function namesOf(p: Patient): { family: string; given: string[] }[] {
  return (p.name ?? [])
    .filter((n: HumanName) => n.use !== 'old')
    .map((n) => ({ family: n.family ?? '', given: n.given ?? [] }))
    .filter((n) => n.family || n.given.length);
}

function bestGiven(given: string[], others: string[]): number {
  if (given.length === 0 || others.length === 0) return 0;
  return Math.max(...given.flatMap((g) => others.map((o) => nameSimilarity(g, o))));
}

/** Name similarity, also trying the query's given and family names swapped (a common data-entry slip). */
export function compareNames(query: Patient, candidate: Patient): number | undefined {
  const q = namesOf(query);
  const c = namesOf(candidate);
  if (q.length === 0 || c.length === 0) return undefined;
  let best = 0;
  for (const a of q) {
    for (const b of c) {
      const straight = 0.6 * nameSimilarity(a.family, b.family) + 0.4 * (a.given.length && b.given.length ? bestGiven(a.given, b.given) : 0.5);
      const swapped = 0.95 * (0.6 * bestGiven([a.family], b.given) + 0.4 * (a.given.length ? nameSimilarity(a.given[0], b.family) : 0.5));
      best = Math.max(best, straight, swapped);
    }
  }
  return best;
}

function isAdjacentTransposition(a: string, b: string): boolean {
  const diff = [...a].map((ch, i) => (ch !== b[i] ? i : -1)).filter((i) => i >= 0);
  return diff.length === 2 && diff[1] === diff[0] + 1 && a[diff[0]] === b[diff[1]] && a[diff[1]] === b[diff[0]];
}

/** Same date 1; one typo (one differing digit, two adjacent digits swapped, day and month swapped) 0.5; otherwise 0. */
export function compareBirthDates(a?: string, b?: string): number | undefined {
  if (!a || !b) return undefined;
  if (a === b) return 1;
  if (a.length !== 10 || b.length !== 10) return a.slice(0, 4) === b.slice(0, 4) ? 0.5 : 0;
  const differing = [...a].filter((ch, i) => ch !== b[i]).length;
  const swapped = a.slice(0, 4) === b.slice(0, 4) && a.slice(5, 7) === b.slice(8, 10) && a.slice(8, 10) === b.slice(5, 7);
  return differing <= 1 || swapped || isAdjacentTransposition(a, b) ? 0.5 : 0;
}

function addressKeys(addresses: Address[] | undefined): Set<string> {
  const keys = new Set<string>();
  for (const a of addresses ?? []) {
    if (a.postalCode) keys.add(`pc:${a.postalCode.replace(/\s+/g, '')}`);
    if (a.city) keys.add(`city:${foldName(a.city)}`);
    for (const line of a.line ?? []) keys.add(`line:${foldName(line)}`);
  }
  return keys;
}

export function compareAddresses(a?: Address[], b?: Address[]): number | undefined {
  const x = addressKeys(a);
  const y = addressKeys(b);
  if (x.size === 0 || y.size === 0) return undefined;
  const shared = [...x].filter((k) => y.has(k));
  if (shared.some((k) => k.startsWith('line:'))) return 1;
  if (shared.length >= 2) return 0.9;
  return shared.length === 1 ? 0.6 : 0;
}

function demographicScore(e: Evidence): number {
  let score = 0;
  for (const [k, w] of Object.entries(WEIGHTS) as [keyof Evidence, number][]) score += w * (e[k] ?? 0.5);
  return score;
}

export type IdentifierVerdict = 'same' | 'conflict' | 'none';

/**
 * `same`: both carry one identifier (system and value). `conflict`: they hold
 * different values of one national identifier system, i.e. different people.
 */
export function compareIdentifiers(query: Patient, candidate: Patient, schemes: readonly NationalIdScheme[]): IdentifierVerdict {
  const cand = (candidate.identifier ?? []).filter((i: Identifier) => i.system && i.value);
  let conflict = false;
  for (const q of query.identifier ?? []) {
    if (!q.system || !q.value) continue;
    const sameSystem = cand.filter((c) => c.system === q.system);
    if (sameSystem.some((c) => c.value === q.value)) return 'same';
    if (schemeForSystem(schemes, q.system) && sameSystem.some((c) => c.use !== 'old')) conflict = true;
  }
  return conflict ? 'conflict' : 'none';
}

/**
 * Scores a candidate against the query patient (IHE PDQm ITI-119 style):
 * a shared identifier is `certain` unless the demographics contradict it; a
 * different national identifier of the same system is `certainly-not`;
 * otherwise name, birth date, gender and address decide.
 */
export function scorePatientMatch(query: Patient, candidate: Patient, schemes: readonly NationalIdScheme[]): MatchScore {
  const demo = demographicScore({
    name: compareNames(query, candidate),
    birthDate: compareBirthDates(query.birthDate, candidate.birthDate),
    gender: query.gender && candidate.gender ? (query.gender === candidate.gender ? 1 : 0) : undefined,
    address: compareAddresses(query.address, candidate.address),
  });
  const identifiers = compareIdentifiers(query, candidate, schemes);
  const demographic = round(demo);
  if (identifiers === 'same') {
    return demo >= 0.5
      ? { score: 1, grade: 'certain', demographic, identifiers }
      : { score: round(Math.max(PROBABLE, demo)), grade: 'probable', demographic, identifiers };
  }
  if (identifiers === 'conflict') return { score: round(Math.min(demo, 0.2)), grade: 'certainly-not', demographic, identifiers };
  const grade: MatchGrade = demo >= PROBABLE ? 'probable' : demo >= POSSIBLE ? 'possible' : 'certainly-not';
  return { score: demographic, grade, demographic, identifiers };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/**
 * Birth date and gender encoded in the query's national identifiers (an EGN
 * carries both), filled in where the query leaves them out.
 */
export function withDemographicsFromNationalIds(query: Patient, schemes: readonly NationalIdScheme[]): Patient {
  let out = query;
  for (const id of query.identifier ?? []) {
    const scheme = schemeForSystem(schemes, id.system);
    if (!scheme || !id.value) continue;
    const r = scheme.check(id.value);
    if (!r.valid) continue;
    if (!out.birthDate && r.birthDate) out = { ...out, birthDate: r.birthDate };
    if (!out.gender && r.gender) out = { ...out, gender: r.gender };
  }
  return out;
}

/**
 * The searches that gather candidates; each is an indexed FHIR search.
 * Identifiers, exact birth date, a name part as a prefix (family or given, so
 * swapped names are found), and a short name prefix within the birth year
 * (typos in the name or the day).
 */
export function candidateQueries(query: Patient): URLSearchParams[] {
  const out: URLSearchParams[] = [];
  for (const id of query.identifier ?? []) {
    if (id.system && id.value) out.push(new URLSearchParams({ identifier: `${id.system}|${id.value}` }));
  }
  if (query.birthDate) out.push(new URLSearchParams({ birthdate: query.birthDate }));
  const parts = namesOf(query).flatMap((n) => [n.family, ...n.given]).filter((p) => p.length >= 2);
  const year = /^\d{4}/.exec(query.birthDate ?? '')?.[0];
  for (const part of [...new Set(parts)].slice(0, 4)) {
    out.push(new URLSearchParams({ name: part }));
    if (year) {
      const q = new URLSearchParams({ name: part.slice(0, 3) });
      q.append('birthdate', `ge${year}-01-01`);
      q.append('birthdate', `le${year}-12-31`);
      out.push(q);
    }
  }
  return out;
}

/**
 * What a match answer shows: every graded match, plus look-alikes that carry
 * another national id (as `certainly-not`, so a clerk sees the near miss).
 */
export function isReportable(m: MatchScore): boolean {
  if (m.grade !== 'certainly-not') return true;
  return m.identifiers === 'conflict' && m.demographic >= PROBABLE;
}

/** A merged-away or deactivated patient is never offered as a match. */
export function isMatchable(p: Patient): boolean {
  return p.active !== false;
}
