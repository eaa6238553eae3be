import fhirpath from 'fhirpath';
import fhirpathR4Model from 'fhirpath/fhir-context/r4';
import type { Issue } from '../errors/fhir-error';
import { checkBinding, compileBinding, type CompiledBinding } from './bindings';
import { buildIssue } from './codes';
import { constraintTriggers } from './constraint-triggers';
import { compileFast, Unsupported, type ChoiceNames, type FastEnv, type FastEvaluator } from './fast-fhirpath';
import { loadDefinitions, type Constraint, type ElementModel, type TypeModel, type Variant } from './definitions';
import { hasElementRules, runElementRules, type ElementRuleEnv } from './element-rules';
import { correctedExpression, nativeConstraint } from './invariant-corrections';

/**
 * FHIRPath invariants: every error-severity constraint of the snapshots,
 * compiled once. A datatype's constraints are evaluated wherever the datatype
 * occurs in an instance; a backbone element's on each of its occurrences.
 * The same walk checks required bindings (bindings.ts), so an instance is
 * traversed once.
 *
 * Validation fails closed: a constraint that cannot be evaluated on an
 * instance (the engine throws, or the expression does not compile) is an
 * error naming the constraint (NHIS-2010), never a pass. Published
 * expressions that are wrong or that the engine cannot run as written are
 * corrected in invariant-corrections.ts.
 */

/** Constraints that are not evaluated by FHIRPath here, with the reason. */
export const REPLACED_CONSTRAINTS: Record<string, string> = {
  'ele-1': 'enforced structurally (no empty objects, strings or arrays)',
  'bdl-7': 'enforced by bundle-rules.ts (reports the duplicate entry)',
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
  /** Element name (without `[x]`) and the model that declares it, for element rules (element-rules.ts). */
  name: string;
  ownerKey: string;
  /** Constraints declared on the element (not those of its type). */
  checks: CompiledConstraint[];
  /** Model to walk for complex values. */
  child?: ModelPlan;
  /** The element's required binding, when its ValueSet is enumerable. */
  binding?: CompiledBinding;
}

interface ModelPlan {
  model: TypeModel;
  /** Attachment, Narrative: element rules apply to every node (others only when they hold extensions). */
  elementRules: boolean;
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
  if (REPLACED_CONSTRAINTS[c.key]) return undefined;
  const native = nativeConstraint(c.key, c.expression);
  if (native) {
    const evaluate: Evaluator = (node, env) => {
      const r = native.test(node, env as never);
      return r === undefined ? [] : [r];
    };
    return { key: c.key, human: c.human, evaluate, triggers: null, passesWhenAbsent: true };
  }
  const expression = correctedExpression(c.key, c.expression);
  let evaluate: Evaluator;
  try {
    const fn = fhirpath.compile({ base, expression: lenientAs(expression) }, fhirpathR4Model as never, options);
    evaluate = (node, env) => fn(node, env as never) as unknown[];
  } catch (err) {
    // Fails closed: every instance the constraint applies to gets an NHIS-2010 error naming it.
    const reason = `does not compile: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    skipped.set(c.key, reason);
    return { key: c.key, human: c.human, evaluate: () => { throw new Error(reason); }, triggers: null, passesWhenAbsent: true };
  }
  let triggers: string[] | null = null;
  let passesWhenAbsent = true;
  const names = model ? constraintTriggers(expression) : null;
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
  const fast = compileFast(expression, choiceNames());
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
  plan = { model, elementRules: hasElementRules(model.key), checks: [], properties: new Map() };
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
      plan.properties.set(variant.jsonName, { variant, name: el.name, ownerKey: model.key, checks, child, binding });
      if (variant.kind === 'primitive') {
        plan.properties.set('_' + variant.jsonName, { variant, name: el.name, ownerKey: model.key, checks: [], child: getPlan('Element') });
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
  /** Whether the element rules (extensions, attachments, narrative links) run. */
  elementRules: boolean;
}

function runChecks(checks: CompiledConstraint[], node: unknown, expression: string, cx: WalkContext): void {
  for (const check of checks) {
    const outcome = passes(check, node, cx.env);
    if (outcome === true) continue;
    if (outcome === false) cx.issues.push(buildIssue('invariant', `${check.key}: ${check.human}`, [expression]));
    else cx.issues.push(buildIssue('invariantNotEvaluated', notEvaluatedMessage(check.key, outcome), [expression]));
  }
}

/** The diagnostics of a constraint that could not be evaluated (validation fails closed). */
export function notEvaluatedMessage(key: string, reason: string): string {
  return `${key}: could not be evaluated on this instance (${reason}); rejected, validation fails closed`;
}

/**
 * One constraint on one node: trigger short-cut, fast path, fhirpath.js.
 * `true` pass, `false` fail, a string: the evaluation threw (the reason), which counts as a failure.
 */
function passes(check: CompiledConstraint, node: unknown, env: Record<string, unknown>): boolean | string {
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
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 200);
    if (!throwing.has(check.key)) throwing.set(check.key, `throws on some instances (reported as NHIS-2010): ${reason}`);
    return reason;
  }
}

/**
 * A constraint compiled by the same machinery as the core invariants (used by the profile engine):
 * `true` pass, `false` fail, a string when it could not be evaluated (the reason; a failure too).
 */
export type ConstraintTest = (node: unknown, env: { resource: unknown; rootResource: unknown }) => boolean | string;

/**
 * Compiles a profile's constraint on the element at `fhirPathBase` whose
 * values have the model `modelKey` (for the trigger short-cut). Throws when
 * the expression does not compile, so a broken profile fails at start.
 */
export function compileConstraintTest(c: Constraint, fhirPathBase: string, modelKey: string | undefined): ConstraintTest {
  if (REPLACED_CONSTRAINTS[c.key]) throw new Error(`constraint key ${c.key} is reserved by the core specification`);
  const model = modelKey ? loadDefinitions().models.get(modelKey) : undefined;
  const compiled = compileConstraint(c, fhirPathBase, model);
  if (!compiled || skipped.has(c.key)) throw new Error(`constraint ${c.key} (${c.expression}): ${skipped.get(c.key) ?? 'does not compile'}`);
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
        // Where fhirpath.js throws (ras-1 on a decimal: its own bug) the fast path is the only answer; nothing to compare.
        let slowPass: boolean | undefined;
        try {
          slowPass = isPass(check.evaluate(node, env));
        } catch {
          slowPass = undefined;
        }
        if (slowPass !== undefined && slowPass !== fastPass) {
          crossCheckMismatches.push(`${check.key}: fast=${fastPass} fhirpath=${slowPass} on ${JSON.stringify(node).slice(0, 300)}`);
        }
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

/**
 * `path` is the element path without indices (`Patient.name.family`), `via`
 * the property the node was reached through (none for the resource itself).
 */
function walk(plan: ModelPlan, node: Record<string, unknown>, expression: string, cx: WalkContext, path: string, via: PropertyPlan | undefined): void {
  if (plan.checks.length > 0) runChecks(plan.checks, node, expression, cx);
  if (cx.elementRules && (plan.elementRules || node.extension !== undefined || node.modifierExtension !== undefined)) {
    const site = via ? { path, type: via.variant.type, parentKey: via.ownerKey, name: via.name, isResource: false } : { path, type: plan.model.key, isResource: true };
    runElementRules(plan.model.key, node, expression, site, cx.env as unknown as ElementRuleEnv, cx.issues);
  }
  for (const key in node) {
    const prop = plan.properties.get(key);
    if (!prop || prop.variant.kind === 'resource') continue;
    const value = node[key];
    const name = key.charCodeAt(0) === 95 ? key.slice(1) : key;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(prop, value[i], `${expression}.${name}[${i}]`, cx, path);
    } else {
      visit(prop, value, `${expression}.${name}`, cx, path);
    }
  }
}

function visit(prop: PropertyPlan, value: unknown, expression: string, cx: WalkContext, parentPath: string): void {
  if (value === null || value === undefined) return;
  if (prop.checks.length > 0) runChecks(prop.checks, value, expression, cx);
  if (prop.binding) {
    for (const p of checkBinding(prop.binding, value)) cx.issues.push(buildIssue('binding', p.message, [expression + p.at]));
  }
  if (prop.child && typeof value === 'object' && !Array.isArray(value)) {
    walk(prop.child, value as Record<string, unknown>, expression, cx, `${parentPath}.${prop.name}`, prop);
  }
}

/**
 * Evaluates the invariants of one resource (not of the resources it embeds,
 * which are validated on their own), and with `elementRules` the element
 * rules on the same walk. `resource` must hold plain numbers.
 */
export function checkInvariants(
  resourceType: string,
  resource: Record<string, unknown>,
  expression: string,
  rootResource: unknown,
  elementRules = true,
): Issue[] {
  const plan = getPlan(resourceType);
  if (!plan) return [];
  const cx: WalkContext = { env: { resource, rootResource }, issues: [], elementRules };
  walk(plan, resource, expression, cx, resourceType, undefined);
  return cx.issues;
}
