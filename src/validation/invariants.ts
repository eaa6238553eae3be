import fhirpath from 'fhirpath';
import fhirpathR4Model from 'fhirpath/fhir-context/r4';
import type { Issue } from '../errors/fhir-error';
import { checkBinding, compileBinding, type CompiledBinding } from './bindings';
import { buildIssue } from './codes';
import { constraintTriggers } from './constraint-triggers';
import { compileFast, Unsupported, type ChoiceNames, type FastEnv, type FastEvaluator } from './fast-fhirpath';
import { loadDefinitions, type Constraint, type ElementModel, type TypeModel, type Variant } from './definitions';

/**
 * FHIRPath invariants: every error-severity constraint of the snapshots,
 * compiled once. A datatype's constraints are evaluated wherever the datatype
 * occurs in an instance; a backbone element's on each of its occurrences.
 * The same walk checks required bindings (bindings.ts), so an instance is
 * traversed once.
 */

/** Constraints that are not evaluated by FHIRPath here, with the reason. */
export const REPLACED_CONSTRAINTS: Record<string, string> = {
  'ele-1': 'enforced structurally (no empty objects, strings or arrays)',
  'bdl-7': 'enforced by bundle-rules.ts (reports the duplicate entry)',
  // R4 writes `answer is Boolean` (System.Boolean); fhirpath.js types answerBoolean as FHIR.boolean,
  // so every valid enableWhen with operator 'exists' would be rejected.
  'que-7': 'skipped: R4 expression `answer is Boolean` never holds for FHIR.boolean in fhirpath.js',
};

type Evaluator = (node: unknown, env: Record<string, unknown>) => unknown[];

interface CompiledConstraint {
  key: string;
  human: string;
  evaluate: Evaluator;
  /** The same constraint on plain JSON, when it is in the fast subset. */
  fast?: FastEvaluator;
  /** JSON keys whose presence requires evaluation; `null`: always evaluate. */
  triggers: string[] | null;
  /** The result on a node that has none of the trigger keys. */
  passesWhenAbsent: boolean;
}

interface PropertyPlan {
  variant: Variant;
  /** Constraints declared on the element (not those of its type). */
  checks: CompiledConstraint[];
  /** Model to walk for complex values. */
  child?: ModelPlan;
  /** The element's required binding, when its ValueSet is enumerable. */
  binding?: CompiledBinding;
}

interface ModelPlan {
  model: TypeModel;
  checks: CompiledConstraint[];
  properties: Map<string, PropertyPlan>;
}

const plans = new Map<string, ModelPlan>();
const skipped = new Map<string, string>();
const throwing = new Map<string, string>();
const options = { resolveInternalTypes: false, traceFn: () => undefined } as const;

/** Keys of invariants that could not be compiled or evaluated, with the reason. */
export function skippedInvariants(): ReadonlyMap<string, string> {
  return new Map([...skipped, ...throwing]);
}

function jsonKeysOf(el: ElementModel): string[] {
  return el.variants.flatMap((v) => [v.jsonName, '_' + v.jsonName]);
}

function compileConstraint(c: Constraint, base: string, model: TypeModel | undefined): CompiledConstraint | undefined {
  if (REPLACED_CONSTRAINTS[c.key] || skipped.has(c.key)) return undefined;
  let evaluate: Evaluator;
  try {
    const fn = fhirpath.compile({ base, expression: lenientAs(c.expression) }, fhirpathR4Model as never, options);
    evaluate = (node, env) => fn(node, env as never) as unknown[];
  } catch (err) {
    skipped.set(c.key, `does not compile: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    return undefined;
  }
  let triggers: string[] | null = null;
  let passesWhenAbsent = true;
  const names = model ? constraintTriggers(c.expression) : null;
  if (names && model) {
    triggers = [];
    for (const name of names) {
      const el = model.elements.get(name);
      if (el) triggers.push(...jsonKeysOf(el));
    }
    const empty = model.isResource ? { resourceType: model.key } : {};
    try {
      passesWhenAbsent = isPass(evaluate(empty, { resource: empty, rootResource: empty }));
    } catch {
      triggers = null;
    }
  }
  const fast = compileFast(c.expression, choiceNames());
  return { key: c.key, human: c.human, evaluate, fast, triggers, passesWhenAbsent };
}

/**
 * R4 constraints (dom-3) call `x.as(T)` on collections; fhirpath.js follows the
 * later FHIRPath rule that `as()` needs a singleton and throws, so dom-3 would
 * never run on a resource with contained resources. Like the HL7 validator we
 * read `as()` as the filter `ofType()`, which is the same on a singleton.
 */
function lenientAs(expression: string): string {
  return expression.replace(/\.as\(/g, '.ofType(');
}

function isPass(result: unknown[]): boolean {
  // Only an explicit `false` fails; an empty result means the constraint could not be decided.
  for (const r of result) if (valueOf(r) === false) return false;
  return true;
}

function valueOf(r: unknown): unknown {
  return r !== null && typeof r === 'object' && 'data' in r ? (r as { data: unknown }).data : r;
}

function getPlan(key: string): ModelPlan | undefined {
  let plan = plans.get(key);
  if (plan) return plan;
  const { models } = loadDefinitions();
  const model = models.get(key);
  if (!model) return undefined;
  plan = { model, checks: [], properties: new Map() };
  plans.set(key, plan); // before recursing: models are recursive (Extension, Questionnaire.item)
  for (const c of model.constraints) {
    const compiled = compileConstraint(c, model.fhirPathBase, model);
    if (compiled) plan.checks.push(compiled);
  }
  for (const el of model.elements.values()) {
    for (const variant of el.variants) {
      const child = variant.kind === 'complex' || variant.kind === 'backbone' ? getPlan(variant.type) : undefined;
      const checks: CompiledConstraint[] = [];
      if (variant.kind !== 'backbone') {
        const typeKeys = new Set(child?.model.constraints.map((c) => c.key));
        for (const c of el.constraints) {
          if (typeKeys.has(c.key)) continue;
          const compiled = compileConstraint(c, `${model.fhirPathBase}.${el.name}`, child?.model);
          if (compiled) checks.push(compiled);
        }
      }
      const binding = el.binding?.strength === 'required' ? compileBinding(el.binding.valueSet, variant.type) : undefined;
      plan.properties.set(variant.jsonName, { variant, checks, child, binding });
      if (variant.kind === 'primitive') {
        plan.properties.set('_' + variant.jsonName, { variant, checks: [], child: getPlan('Element') });
      }
    }
  }
  return plan;
}

/** Compiles the invariants of every resource type (and the datatypes they use). */
export function warmInvariants(resourceTypes: Iterable<string>): void {
  for (const t of resourceTypes) getPlan(t);
}

interface WalkContext {
  env: Record<string, unknown>;
  issues: Issue[];
}

function runChecks(checks: CompiledConstraint[], node: unknown, expression: string, cx: WalkContext): void {
  for (const check of checks) {
    if (!passes(check, node, cx.env)) fail(check, expression, cx);
  }
}

/** One constraint on one node: trigger short-cut, fast path, fhirpath.js; an evaluation error passes. */
function passes(check: CompiledConstraint, node: unknown, env: Record<string, unknown>): boolean {
  if (check.triggers !== null && node !== null && typeof node === 'object') {
    let triggered = false;
    const obj = node as Record<string, unknown>;
    for (const k of check.triggers) {
      if (obj[k] !== undefined) {
        triggered = true;
        break;
      }
    }
    if (!triggered) return check.passesWhenAbsent;
  }
  try {
    return evaluateCheck(check, node, env);
  } catch (err) {
    // The engine cannot evaluate this constraint on this instance: treat as passing.
    if (!throwing.has(check.key)) throwing.set(check.key, `throws on some instances (treated as passing): ${(err instanceof Error ? err.message : String(err)).slice(0, 120)}`);
    return true;
  }
}

/** A constraint compiled by the same machinery as the core invariants (used by the profile engine). */
export type ConstraintTest = (node: unknown, env: { resource: unknown; rootResource: unknown }) => boolean;

/**
 * Compiles a profile's constraint on the element at `fhirPathBase` whose
 * values have the model `modelKey` (for the trigger short-cut). Throws when
 * the expression does not compile, so a broken profile fails at start.
 */
export function compileConstraintTest(c: Constraint, fhirPathBase: string, modelKey: string | undefined): ConstraintTest {
  if (REPLACED_CONSTRAINTS[c.key]) throw new Error(`constraint key ${c.key} is reserved by the core specification`);
  const model = modelKey ? loadDefinitions().models.get(modelKey) : undefined;
  const compiled = compileConstraint(c, fhirPathBase, model);
  if (!compiled) throw new Error(`constraint ${c.key} (${c.expression}): ${skipped.get(c.key) ?? 'does not compile'}`);
  return (node, env) => passes(compiled, node, env as unknown as Record<string, unknown>);
}

function evaluateCheck(check: CompiledConstraint, node: unknown, env: Record<string, unknown>): boolean {
  if (check.fast) {
    let fastPass: boolean | undefined;
    try {
      fastPass = isPass(check.fast(node, env as unknown as FastEnv));
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err;
    }
    if (fastPass !== undefined) {
      if (crossCheck) {
        const slowPass = isPass(check.evaluate(node, env));
        if (slowPass !== fastPass) crossCheckMismatches.push(`${check.key}: fast=${fastPass} fhirpath=${slowPass} on ${JSON.stringify(node).slice(0, 300)}`);
      }
      return fastPass;
    }
  }
  return isPass(check.evaluate(node, env));
}

let crossCheck = false;
const crossCheckMismatches: string[] = [];

/**
 * Test aid: also evaluate fast-path constraints with fhirpath.js and record
 * every disagreement (returned by the getter).
 */
export function setInvariantCrossCheck(on: boolean): string[] {
  crossCheck = on;
  return crossCheckMismatches;
}

let choiceNameCache: ChoiceNames | undefined;
function choiceNames(): ChoiceNames {
  if (choiceNameCache) return choiceNameCache;
  const names = new Set<string>();
  const suffixes = new Set<string>();
  for (const model of loadDefinitions().models.values()) {
    for (const el of model.elements.values()) {
      if (!el.isChoice) continue;
      names.add(el.name);
      for (const v of el.variants) suffixes.add(v.jsonName.slice(el.name.length));
    }
  }
  choiceNameCache = { names, suffixes };
  return choiceNameCache;
}

function fail(check: CompiledConstraint, expression: string, cx: WalkContext): void {
  cx.issues.push(buildIssue('invariant', `${check.key}: ${check.human}`, [expression]));
}

function walk(plan: ModelPlan, node: Record<string, unknown>, expression: string, cx: WalkContext): void {
  if (plan.checks.length > 0) runChecks(plan.checks, node, expression, cx);
  for (const key in node) {
    const prop = plan.properties.get(key);
    if (!prop || prop.variant.kind === 'resource') continue;
    const value = node[key];
    const name = key.charCodeAt(0) === 95 ? key.slice(1) : key;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(prop, value[i], `${expression}.${name}[${i}]`, cx);
    } else {
      visit(prop, value, `${expression}.${name}`, cx);
    }
  }
}

function visit(prop: PropertyPlan, value: unknown, expression: string, cx: WalkContext): void {
  if (value === null || value === undefined) return;
  if (prop.checks.length > 0) runChecks(prop.checks, value, expression, cx);
  if (prop.binding) {
    for (const p of checkBinding(prop.binding, value)) cx.issues.push(buildIssue('binding', p.message, [expression + p.at]));
  }
  if (prop.child && typeof value === 'object' && !Array.isArray(value)) {
    walk(prop.child, value as Record<string, unknown>, expression, cx);
  }
}

/**
 * Evaluates the invariants of one resource (not of the resources it embeds,
 * which are validated on their own). `resource` must hold plain numbers.
 */
export function checkInvariants(
  resourceType: string,
  resource: Record<string, unknown>,
  expression: string,
  rootResource: unknown,
): Issue[] {
  const plan = getPlan(resourceType);
  if (!plan) return [];
  const cx: WalkContext = { env: { resource, rootResource }, issues: [] };
  walk(plan, resource, expression, cx);
  return cx.issues;
}
