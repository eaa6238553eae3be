import r4Model from 'fhirpath/fhir-context/r4';
import type { FhirPathNode } from './path-node';
import { splitTopLevel } from './fhirpath-split';

/**
 * A fast evaluator for the simple FHIRPath shapes most search parameters use
 * (`Type.a.b`, `(Type.value.ofType(Quantity))`, `Type.subject.where(reference.startsWith('Patient/') or
 * reference.contains('/Patient/'))`, `Type.telecom.where(system='email')`, unions of these), walking
 * the JSON directly with the same R4 model tables fhirpath.js uses (choice types,
 * element types, paths defined elsewhere). Anything else returns undefined from
 * `compileDirectPath` and stays with fhirpath. The nodes it returns carry the same
 * `data`, `fhirNodeDataType` and `path` as fhirpath.js's ResourceNodes.
 *
 * It walks the resource as stored (LosslessNumbers included), so it needs no
 * plain-number copy of the resource.
 */
interface Model {
  choiceTypePaths: Record<string, string[]>;
  pathsDefinedElsewhere: Record<string, string>;
  type2Parent: Record<string, string>;
  path2Type: Record<string, string>;
  path2TypeWithoutElements: Record<string, string>;
}
const model = r4Model as unknown as Model;

export interface DirectNode extends FhirPathNode {
  data: unknown;
  fhirNodeDataType: string | null;
  path: string;
}

type Step =
  | { kind: 'child'; name: string; resolved: Map<string, ChildPaths> }
  | { kind: 'ofType'; type: string }
  | { kind: 'refTo'; type: string }
  | { kind: 'systemIs'; value: string };

/**
 * System types a node outside the model (no FHIR type) may have by its JavaScript value;
 * ofType on them stays with fhirpath. (`DateTime`, `Date`, `Time` are never the type of a
 * JSON value: fhirpath.js gives those only to its own date objects.)
 */
const AMBIGUOUS_TYPES = new Set(['String', 'Boolean', 'Integer', 'Decimal', 'Long']);
/** fhirpath.js's automatic FHIR → System conversions of date and time types (https://hl7.org/fhir/fhirpath.html#types). */
const SYSTEM_TYPE_OF: Record<string, string> = { date: 'DateTime', dateTime: 'DateTime', instant: 'DateTime', time: 'Time' };

const IDENT = /^[A-Za-z][A-Za-z0-9]*$/;
const REF_TO = /^where\(\s*reference\.startsWith\('([A-Z][A-Za-z]+)\/'\)\s+or\s+reference\.contains\('\/([A-Z][A-Za-z]+)\/'\)\s*\)$/;
const SYSTEM_IS = /^where\(\s*system\s*=\s*'([a-z-]+)'\s*\)$/;
const OF_TYPE = /^ofType\(\s*([A-Za-z]+)\s*\)$/;

/**
 * Splits a term on dots outside parentheses and quotes; escapes and unbalanced text are not walked.
 * A part wrapped whole in parentheses is a path too (`(Observation.value.ofType(CodeableConcept)).text`
 * navigates as `Observation.value.ofType(CodeableConcept).text`), so it is split in place.
 */
function splitDots(term: string): string[] | undefined {
  const split = splitTopLevel(term, '.');
  if (split.escaped || !split.balanced) return undefined;
  const parts: string[] = [];
  for (const part of split.parts) {
    const inner = part.startsWith('(') ? unwrap(part) : part;
    if (inner === part) parts.push(part);
    else {
      const nested = splitDots(inner);
      if (!nested) return undefined;
      parts.push(...nested);
    }
  }
  return parts;
}

function splitUnion(expression: string): string[] | undefined {
  const split = splitTopLevel(expression, '|');
  return split.escaped || !split.parts.every(Boolean) ? undefined : split.parts;
}

/** `(x)` → `x` when the parentheses wrap the whole term. */
function unwrap(term: string): string {
  let t = term.trim();
  while (t.startsWith('(') && t.endsWith(')')) {
    let depth = 0;
    let wraps = true;
    for (let i = 0; i < t.length - 1; i++) {
      if (t[i] === '(') depth++;
      else if (t[i] === ')') depth--;
      if (depth === 0) {
        wraps = false;
        break;
      }
    }
    if (!wraps) break;
    t = t.slice(1, -1).trim();
  }
  return t;
}

function parseSteps(parts: string[]): Step[] | undefined {
  const steps: Step[] = [];
  for (const p of parts) {
    let m: RegExpExecArray | null;
    if (IDENT.test(p)) steps.push({ kind: 'child', name: p, resolved: new Map() });
    else if ((m = OF_TYPE.exec(p))) {
      if (AMBIGUOUS_TYPES.has(m[1])) return undefined;
      steps.push({ kind: 'ofType', type: m[1] });
    } else if ((m = REF_TO.exec(p)) && m[1] === m[2]) steps.push({ kind: 'refTo', type: m[1] });
    else if ((m = SYSTEM_IS.exec(p))) steps.push({ kind: 'systemIs', value: m[1] });
    else return undefined;
  }
  return steps;
}

function isSome(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Where one property of a parent path lives in the JSON and what the model says about it. */
interface ChildPath {
  field: string;
  /** `_field`: the primitive's id and extensions. */
  extraField: string;
  type: string | null;
  path: string;
}

/** The candidates for one property: one, or one per choice type in the model's order. */
type ChildPaths = ChildPath[];

/** Resolved once per (parent path, name) and kept on the step: no string building per node. */
function resolveChild(parentPath: string, name: string): ChildPaths {
  let childPath = `${parentPath}.${name}`;
  childPath = model.pathsDefinedElsewhere[childPath] ?? childPath;
  const at = (field: string, path: string): ChildPath => ({
    field,
    extraField: `_${field}`,
    type: model.path2Type[path] ?? null,
    path: model.path2TypeWithoutElements[path] ?? path,
  });
  const choices = model.choiceTypePaths[childPath];
  return choices ? choices.map((t) => at(name + t, childPath + t)) : [at(name, childPath)];
}

/** fhirpath.js's makeChildResNodes for one property, on the R4 model. */
function children(parent: DirectNode, step: Extract<Step, { kind: 'child' }>, out: DirectNode[]): void {
  const data = parent.data;
  if (!data || typeof data !== 'object' || Array.isArray(data)) return;
  const obj = data as Record<string, unknown>;
  let candidates = step.resolved.get(parent.path);
  if (!candidates) {
    candidates = resolveChild(parent.path, step.name);
    step.resolved.set(parent.path, candidates);
  }
  let value: unknown;
  let extra: unknown;
  let found: ChildPath | undefined;
  for (const c of candidates) {
    value = obj[c.field];
    extra = obj[c.extraField];
    if (value !== undefined || extra !== undefined) {
      found = c;
      break;
    }
  }
  if (!found || (!isSome(value) && !isSome(extra))) return;
  const { type, path } = found;
  if (Array.isArray(value)) {
    for (const v of value) out.push({ data: v ?? null, fhirNodeDataType: type, path });
    const extraLength = Array.isArray(extra) ? extra.length : 0;
    for (let i = value.length; i < extraLength; i++) out.push({ data: null, fhirNodeDataType: type, path });
  } else if (!isSome(value) && Array.isArray(extra)) {
    for (let i = 0; i < extra.length; i++) out.push({ data: null, fhirNodeDataType: type, path });
  } else {
    out.push({ data: value ?? null, fhirNodeDataType: type, path });
  }
}

/** fhirpath.js's `ofType`: the node's FHIR type or a parent of it is `type`, or it converts to System `type`. */
function isOfType(node: DirectNode, type: string): boolean {
  if (node.fhirNodeDataType && SYSTEM_TYPE_OF[node.fhirNodeDataType] === type) return true;
  for (let t: string | null | undefined = node.fhirNodeDataType; t; t = model.type2Parent[t]) if (t === type) return true;
  return false;
}

function applyStep(nodes: DirectNode[], step: Step): DirectNode[] {
  const out: DirectNode[] = [];
  switch (step.kind) {
    case 'child':
      for (const n of nodes) children(n, step, out);
      return out;
    case 'ofType':
      return nodes.filter((n) => isOfType(n, step.type));
    case 'refTo':
      return nodes.filter((n) => {
        const ref = (n.data as { reference?: unknown } | null)?.reference;
        return typeof ref === 'string' && (ref.startsWith(`${step.type}/`) || ref.includes(`/${step.type}/`));
      });
    case 'systemIs':
      return nodes.filter((n) => (n.data as { system?: unknown } | null)?.system === step.value);
  }
}

/** Distinct by identity then by content, as fhirpath's union does for these shapes. */
function union(lists: DirectNode[][]): DirectNode[] {
  if (lists.length === 1) return lists[0];
  let nonEmpty: DirectNode[] | undefined;
  let count = 0;
  for (const list of lists) {
    if (list.length > 0) nonEmpty = list;
    count += list.length;
  }
  if (count <= 1) return nonEmpty ?? [];
  const out: DirectNode[] = [];
  const seen = new Set<string>();
  for (const list of lists) {
    for (const n of list) {
      const key = `${n.fhirNodeDataType}\u0000${JSON.stringify(n.data)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(n);
    }
  }
  return out;
}

function walkSteps(start: DirectNode, steps: Step[]): DirectNode[] {
  let nodes = [start];
  for (const step of steps) {
    if (nodes.length === 0) break;
    nodes = applyStep(nodes, step);
  }
  return nodes;
}

export type DirectPath = (input: unknown) => DirectNode[];

/**
 * Compiles `expression` for resources of `resourceType` (root terms start with
 * the type name), or relative to nodes whose model path is given by the caller
 * when `relative` is set (composite components). Undefined when the shape is
 * not one of the simple ones.
 */
export function compileDirectPath(expression: string, resourceType: string, relative = false): DirectPath | undefined {
  const terms = splitUnion(expression);
  if (!terms) return undefined;
  const compiled: Step[][] = [];
  for (const raw of terms) {
    const parts = splitDots(unwrap(raw));
    if (!parts || parts.length === 0) return undefined;
    if (!relative) {
      if (parts[0] !== resourceType) return undefined;
      parts.shift();
    }
    const steps = parseSteps(parts);
    if (!steps) return undefined;
    if (relative && (steps.length === 0 || steps[0].kind !== 'child')) return undefined;
    compiled.push(steps);
  }
  // Root terms start from the resource; relative ones from the node passed in.
  return (input: unknown): DirectNode[] => {
    const start: DirectNode = relative
      ? (input as DirectNode)
      : { data: input, fhirNodeDataType: resourceType, path: resourceType };
    if (!relative && (input as { resourceType?: unknown } | null)?.resourceType !== resourceType) return [];
    if (compiled.length === 1) return walkSteps(start, compiled[0]);
    return union(compiled.map((steps) => walkSteps(start, steps)));
  };
}
