import { checkBinding, compileBinding, type CompiledBinding } from './bindings';
import { loadDefinitions, type ElementModel, type Variant } from './definitions';
import { expandValueSet } from './terminology';
import { compileConstraintTest, type ConstraintTest } from './invariants';

/**
 * Compiles a national StructureDefinition (differential form, constraint on a
 * core resource or on another national profile) once, into a tree of element
 * rules over the core models of definitions.ts: cardinality, allowed types
 * (choice variants and Reference targets), fixed[x], pattern[x], required
 * bindings (bindings.ts, shared with the core check), slicing by value or
 * pattern discriminators, and FHIRPath constraints compiled by invariants.ts.
 * Anything it does not understand is a start-up error, never a silent pass.
 */

export interface ElementDefinitionInput {
  id?: string;
  path: string;
  sliceName?: string;
  min?: number;
  max?: string;
  type?: { code: string; targetProfile?: string[]; profile?: string[] }[];
  binding?: { strength: string; valueSet?: string };
  constraint?: { key: string; severity: string; human: string; expression?: string }[];
  slicing?: { discriminator?: { type: string; path: string }[]; rules?: string; ordered?: boolean };
  [key: string]: unknown;
}

export interface StructureDefinitionInput {
  resourceType: 'StructureDefinition';
  id: string;
  url: string;
  name: string;
  type: string;
  kind: string;
  derivation?: string;
  baseDefinition?: string;
  differential?: { element: ElementDefinitionInput[] };
}

export interface SliceRule {
  name: string;
  min: number;
  max: number;
  matches: (item: unknown) => boolean;
  node: RuleNode;
}

export interface RuleNode {
  /** Element id in the profile, e.g. `Patient.identifier:nationalId.system`. */
  id: string;
  /** Element name without `[x]` (root: the resource type). */
  name: string;
  /** JSON names of the allowed variants. */
  jsonNames: string[];
  /** FHIR type of each allowed variant (same order as `jsonNames`). */
  variantTypes: string[];
  /** JSON names of choice variants the profile excludes. */
  excluded: string[];
  primitive: boolean;
  min?: number;
  max?: number;
  fixed?: { key: string; value: unknown };
  pattern?: { key: string; value: unknown };
  binding?: CompiledBinding;
  /** Resource types a Reference may point to. */
  targetTypes?: Set<string>;
  constraints: { key: string; human: string; test: ConstraintTest }[];
  slicing?: { discriminator: { type: 'value' | 'pattern'; path: string }; rules: string; slices: SliceRule[] };
  children: RuleNode[];
  /** Model key of this node's values (for children); `undefined` for primitives. */
  modelKey?: string;
  /** FHIRPath base of this node's values (for constraints). */
  fhirPathBase: string;
}

export interface CompiledProfile {
  url: string;
  name: string;
  type: string;
  root: RuleNode;
}

const CORE_SD = 'http://hl7.org/fhir/StructureDefinition/';

function parseMax(max: string | undefined): number | undefined {
  if (max === undefined) return undefined;
  return max === '*' ? Infinity : Number(max);
}

export class ProfileCompileError extends Error {}

/**
 * Compiles `sd`. `resolveProfile` gives the compiled base (for profiles on
 * national profiles) and the resource type behind a canonical (for Reference targets).
 */
export function compileProfile(
  sd: StructureDefinitionInput,
  lookup: { compiled: (url: string) => CompiledProfile | undefined; typeOf: (url: string) => string | undefined },
): CompiledProfile {
  const fail = (msg: string): never => {
    throw new ProfileCompileError(`${sd.url}: ${msg}`);
  };
  if (sd.derivation !== 'constraint') fail('only constraint profiles (derivation = constraint) are supported');
  const { resourceTypes } = loadDefinitions();
  if (!resourceTypes.has(sd.type)) fail(`type ${sd.type} is not a resource type`);
  const base = sd.baseDefinition ?? '';
  let root: RuleNode;
  if (base === CORE_SD + sd.type) {
    root = newNode(sd.type, sd.type, [sd.type], [sd.type], false, sd.type, sd.type);
  } else {
    const parent = lookup.compiled(base) ?? fail(`baseDefinition ${base} is neither the core ${sd.type} nor a compiled national profile`);
    if (parent.type !== sd.type) fail(`baseDefinition ${base} constrains ${parent.type}, not ${sd.type}`);
    root = cloneNode(parent.root);
  }
  const byId = new Map<string, RuleNode>([[sd.type, root]]);
  indexTree(root, byId);

  for (const ed of sd.differential?.element ?? []) {
    const id = ed.id ?? (ed.sliceName ? `${ed.path}:${ed.sliceName}` : ed.path);
    const node = id === sd.type ? root : nodeFor(id, byId, fail);
    applyElement(node, ed, sd, lookup, fail);
  }
  // Slices get their matchers once their discriminator children are known.
  for (const node of byId.values()) {
    if (node.slicing) for (const slice of node.slicing.slices) slice.matches = sliceMatcher(node, slice, fail);
  }
  return { url: sd.url, name: sd.name, type: sd.type, root };
}

function newNode(
  id: string,
  name: string,
  jsonNames: string[],
  variantTypes: string[],
  primitive: boolean,
  modelKey: string | undefined,
  fhirPathBase: string,
): RuleNode {
  return { id, name, jsonNames, variantTypes, excluded: [], primitive, constraints: [], children: [], modelKey, fhirPathBase };
}

function cloneNode(n: RuleNode): RuleNode {
  return {
    ...n,
    jsonNames: [...n.jsonNames],
    excluded: [...n.excluded],
    constraints: [...n.constraints],
    children: n.children.map(cloneNode),
    slicing: n.slicing && {
      ...n.slicing,
      slices: n.slicing.slices.map((s) => ({ ...s, node: cloneNode(s.node) })),
    },
  };
}

function indexTree(n: RuleNode, byId: Map<string, RuleNode>): void {
  byId.set(n.id, n);
  for (const c of n.children) indexTree(c, byId);
  for (const s of n.slicing?.slices ?? []) indexTree(s.node, byId);
}

/** The node of an element id, creating it (and missing ancestors) from the core model. */
function nodeFor(id: string, byId: Map<string, RuleNode>, fail: (m: string) => never): RuleNode {
  const existing = byId.get(id);
  if (existing) return existing;
  const dot = id.lastIndexOf('.');
  const colon = id.lastIndexOf(':');
  if (colon > dot) {
    // A slice: `Patient.identifier:nationalId`.
    const sliced = nodeFor(id.slice(0, colon), byId, fail);
    if (!sliced.slicing) fail(`${id}: slice of an element without slicing`);
    const sliceName = id.slice(colon + 1);
    const node = newNode(id, sliced.name, sliced.jsonNames, sliced.variantTypes, sliced.primitive, sliced.modelKey, sliced.fhirPathBase);
    sliced.slicing!.slices.push({ name: sliceName, min: 0, max: Infinity, matches: () => false, node });
    byId.set(id, node);
    return node;
  }
  if (dot < 0) fail(`${id}: element outside the profiled type`);
  const parent = nodeFor(id.slice(0, dot), byId, fail);
  const segment = id.slice(dot + 1);
  if (!parent.modelKey) fail(`${id}: ${parent.id} has no children (primitive or unresolved choice)`);
  const model = loadDefinitions().models.get(parent.modelKey!) ?? fail(`${id}: no model ${parent.modelKey}`);
  let el: ElementModel | undefined;
  let variants: Variant[] = [];
  if (segment.endsWith('[x]')) {
    el = model.elements.get(segment.slice(0, -3));
    if (!el?.isChoice) fail(`${id}: ${segment} is not a choice element of ${parent.modelKey}`);
    variants = el!.variants;
  } else {
    el = model.elements.get(segment);
    if (el) {
      variants = el.variants;
    } else {
      // A choice element named by one type, e.g. `medicationCodeableConcept`.
      for (const candidate of model.elements.values()) {
        const v = candidate.isChoice ? candidate.variants.find((x) => x.jsonName === segment) : undefined;
        if (v) {
          el = candidate;
          variants = [v];
        }
      }
    }
  }
  if (!el) fail(`${id}: ${parent.modelKey} has no element ${segment}`);
  const node = nodeForVariants(id, el!, variants, parent.fhirPathBase);
  if (variants.length < el!.variants.length) node.excluded = el!.variants.filter((v) => !variants.includes(v)).map((v) => v.jsonName);
  parent.children.push(node);
  byId.set(id, node);
  return node;
}

function nodeForVariants(id: string, el: ElementModel, variants: Variant[], parentBase: string): RuleNode {
  const single = variants.length === 1 ? variants[0] : undefined;
  const modelKey = single && single.kind !== 'primitive' && single.kind !== 'resource' ? single.type : undefined;
  return newNode(
    id,
    el.name,
    variants.map((v) => v.jsonName),
    variants.map((v) => v.type),
    single?.kind === 'primitive',
    modelKey,
    `${parentBase}.${el.name}`,
  );
}

function applyElement(
  node: RuleNode,
  ed: ElementDefinitionInput,
  sd: StructureDefinitionInput,
  lookup: { typeOf: (url: string) => string | undefined },
  fail: (m: string) => never,
): void {
  const id = node.id;
  if (ed.min !== undefined) node.min = ed.min;
  const max = parseMax(ed.max);
  if (max !== undefined) node.max = max;
  if (ed.type?.length && id !== sd.type) {
    const allowed = new Set(ed.type.map((t) => t.code));
    const types = node.variantTypes;
    if (node.jsonNames.length > 1) {
      const keep = node.jsonNames.filter((j, i) => allowed.has(types[i]) || allowed.has(j.slice(node.name.length).replace(/^./, (c) => c.toLowerCase())));
      if (keep.length === 0) fail(`${id}: none of the types ${[...allowed].join(', ')} is allowed by the base`);
      node.excluded = [...node.excluded, ...node.jsonNames.filter((j) => !keep.includes(j))];
      const keptTypes = node.jsonNames.map((j, i) => (keep.includes(j) ? types[i] : undefined)).filter((t): t is string => !!t);
      node.jsonNames = keep;
      node.variantTypes = keptTypes;
      if (keep.length === 1) {
        const t = keptTypes[0];
        const { models, primitiveTypes } = loadDefinitions();
        node.primitive = primitiveTypes.has(t);
        node.modelKey = models.has(t) ? t : undefined;
      }
    }
    const targets = ed.type.flatMap((t) => t.targetProfile ?? []);
    if (targets.length) {
      node.targetTypes = new Set(
        targets.map((url) => {
          if (url.startsWith(CORE_SD)) return url.slice(CORE_SD.length);
          return lookup.typeOf(url) ?? fail(`${id}: targetProfile ${url} is not known`);
        }),
      );
    }
  }
  for (const key of Object.keys(ed)) {
    if (key.startsWith('fixed')) node.fixed = { key, value: ed[key] };
    else if (key.startsWith('pattern')) node.pattern = { key, value: ed[key] };
  }
  if (ed.binding?.strength === 'required' && ed.binding.valueSet) {
    const types = node.variantTypes;
    const type = types.find((t) => t === 'CodeableConcept' || t === 'Coding' || t === 'code') ?? (types.some((t) => t === 'uri' || t === 'string') ? 'code' : undefined);
    if (!type) fail(`${id}: required binding on an element of type ${types.join('|')}`);
    node.binding = compileBinding(ed.binding.valueSet, type!) ?? fail(`${id}: ValueSet ${ed.binding.valueSet} cannot be expanded: ${expandReason(ed.binding.valueSet)}`);
  }
  if (ed.slicing) {
    const d = ed.slicing.discriminator ?? [];
    if (d.length !== 1 || (d[0].type !== 'value' && d[0].type !== 'pattern') || d[0].path.includes('.')) {
      fail(`${id}: only one value/pattern discriminator on a direct child is supported`);
    }
    node.slicing = { discriminator: { type: d[0].type as 'value' | 'pattern', path: d[0].path }, rules: ed.slicing.rules ?? 'open', slices: node.slicing?.slices ?? [] };
  }
  for (const c of ed.constraint ?? []) {
    if (c.severity !== 'error' || !c.expression) continue;
    const test = compileConstraintTest({ key: c.key, human: c.human, expression: c.expression }, id === sd.type ? sd.type : node.fhirPathBase, node.modelKey);
    node.constraints.push({ key: c.key, human: c.human, test });
  }
}

function expandReason(url: string): string {
  const r = expandValueSet(url);
  return r.ok ? 'unsupported type' : r.reason;
}

/** How an item is recognised as belonging to a slice: the discriminator child's fixed, pattern or required binding. */
function sliceMatcher(sliced: RuleNode, slice: SliceRule, fail: (m: string) => never): (item: unknown) => boolean {
  const path = sliced.slicing!.discriminator.path;
  const own = slice.node.pattern?.value ?? slice.node.fixed?.value;
  if (path === '$this' && own !== undefined) return (item) => containsPattern(item, own);
  const child = slice.node.children.find((c) => c.name === path);
  const ownPart = own !== null && typeof own === 'object' ? (own as Record<string, unknown>)[path] : undefined;
  if (child?.fixed) {
    const v = child.fixed.value;
    return (item) => deepEqual(childValue(item, path), v);
  }
  if (child?.pattern || ownPart !== undefined) {
    const v = child?.pattern?.value ?? ownPart;
    return (item) => containsPattern(childValue(item, path), v);
  }
  if (child?.binding) {
    const b = child.binding;
    return (item) => {
      const v = childValue(item, path);
      return v !== undefined && checkBinding(b, v).length === 0;
    };
  }
  return fail(`${slice.node.id}: the discriminator ${path} has no fixed, pattern or required binding`);
}

function childValue(item: unknown, path: string): unknown {
  return item !== null && typeof item === 'object' ? (item as Record<string, unknown>)[path] : undefined;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** FHIR pattern matching: every element of the pattern is in the value; a pattern array item matches some value item. */
export function containsPattern(value: unknown, pattern: unknown): boolean {
  if (pattern === null || typeof pattern !== 'object') return value === pattern;
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value)) return false;
    return pattern.every((p) => value.some((v) => containsPattern(v, p)));
  }
  if (Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return Object.entries(pattern as Record<string, unknown>).every(([k, p]) => containsPattern(v[k], p));
}
