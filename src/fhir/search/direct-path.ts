import r4Model from 'fhirpath/fhir-context/r4';
import type { FhirPathNode } from './definitions';
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
  | { kind: 'child'; name: string }
  | { kind: 'ofType'; type: string }
  | { kind: 'refTo'; type: string }
  | { kind: 'systemIs'; value: string };

/** Types fhirpath.js may also read as System types; ofType on them stays with fhirpath. */
const AMBIGUOUS_TYPES = new Set(['String', 'Boolean', 'Integer', 'Decimal', 'Date', 'DateTime', 'Time']);

const IDENT = /^[A-Za-z][A-Za-z0-9]*$/;
const REF_TO = /^where\(\s*reference\.startsWith\('([A-Z][A-Za-z]+)\/'\)\s+or\s+reference\.contains\('\/([A-Z][A-Za-z]+)\/'\)\s*\)$/;
const SYSTEM_IS = /^where\(\s*system\s*=\s*'([a-z-]+)'\s*\)$/;
const OF_TYPE = /^ofType\(\s*([A-Z][A-Za-z]+)\s*\)$/;

/** Splits a term on dots outside parentheses and quotes; escapes and unbalanced text are not walked. */
function splitDots(term: string): string[] | undefined {
  const split = splitTopLevel(term, '.');
  return split.escaped || !split.balanced ? undefined : split.parts;
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
    if (IDENT.test(p)) steps.push({ kind: 'child', name: p });
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

/** fhirpath.js's makeChildResNodes for one property, on the R4 model. */
function children(parent: DirectNode, name: string, out: DirectNode[]): void {
  const data = parent.data;
  if (!data || typeof data !== 'object' || Array.isArray(data)) return;
  const obj = data as Record<string, unknown>;
  let childPath = `${parent.path}.${name}`;
  childPath = model.pathsDefinedElsewhere[childPath] ?? childPath;
  let value: unknown;
  let extra: unknown;
  const choices = model.choiceTypePaths[childPath];
  if (choices) {
    for (const t of choices) {
      const field = name + t;
      value = obj[field];
      extra = obj[`_${field}`];
      if (value !== undefined || extra !== undefined) {
        childPath += t;
        break;
      }
    }
  } else {
    value = obj[name];
    extra = obj[`_${name}`];
  }
  if (!isSome(value) && !isSome(extra)) return;
  const type = model.path2Type[childPath] ?? null;
  const path = model.path2TypeWithoutElements[childPath] ?? childPath;
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

function isOfType(node: DirectNode, type: string): boolean {
  for (let t: string | null | undefined = node.fhirNodeDataType; t; t = model.type2Parent[t]) if (t === type) return true;
  return false;
}

function applyStep(nodes: DirectNode[], step: Step): DirectNode[] {
  const out: DirectNode[] = [];
  switch (step.kind) {
    case 'child':
      for (const n of nodes) children(n, step.name, out);
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
    return union(compiled.map((steps) => steps.reduce((nodes, step) => (nodes.length ? applyStep(nodes, step) : nodes), [start])));
  };
}
