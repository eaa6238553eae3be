import type { Issue } from '../errors/fhir-error';
import { checkBinding } from './bindings';
import { buildIssue, type ValidationCode } from './codes';
import { conformanceResourcesOf } from './conformance-resources';
import { notEvaluatedMessage } from './invariants';
import { isVitalSignsProfile } from './vital-signs';
import { compileProfile, containsPattern, deepEqual, type CompiledProfile, type RuleNode, type StructureDefinitionInput } from './profile-compiler';

/**
 * National profiles (fhir-profiles/StructureDefinition-*.json): compiled once,
 * then applied to a resource that claims one in `meta.profile`, and, when
 * enforced, to every resource of a profiled type. Violations are 422-class
 * issues (`business-rule` / `invariant`) naming the element and the profile.
 */

export const NATIONAL_PROFILE_BASE = 'http://opennhis.org/fhir/StructureDefinition/';

/**
 * - `enforce`: the national profile of a type applies to every resource of that type (and to claims).
 * - `claimed`: only resources that claim a national profile in `meta.profile` are checked against it.
 * - `off`: national profiles are not applied.
 */
export type ProfileMode = 'enforce' | 'claimed' | 'off';

interface ProfileRegistry {
  byUrl: Map<string, CompiledProfile>;
  byType: Map<string, CompiledProfile[]>;
}

let registry: ProfileRegistry | undefined;

/** Compiles every shipped StructureDefinition (bases first); throws on the first broken one. */
export function loadProfiles(): ProfileRegistry {
  if (registry) return registry;
  const sds = conformanceResourcesOf('StructureDefinition') as unknown as StructureDefinitionInput[];
  const byUrl = new Map<string, CompiledProfile>();
  const sdByUrl = new Map(sds.map((sd) => [sd.url, sd]));
  const compiling = new Set<string>();
  const compileUrl = (url: string): CompiledProfile | undefined => {
    const done = byUrl.get(url);
    if (done) return done;
    const sd = sdByUrl.get(url);
    if (!sd || compiling.has(url)) return undefined;
    compiling.add(url);
    const compiled = compileProfile(sd, { compiled: compileUrl, typeOf: (u) => sdByUrl.get(u)?.type });
    byUrl.set(url, compiled);
    return compiled;
  };
  for (const sd of sds) compileUrl(sd.url);
  const byType = new Map<string, CompiledProfile[]>();
  for (const p of byUrl.values()) byType.set(p.type, [...(byType.get(p.type) ?? []), p]);
  registry = { byUrl, byType };
  return registry;
}

export function compiledProfile(url: string): CompiledProfile | undefined {
  return loadProfiles().byUrl.get(url.split('|')[0]);
}

export interface ProfileCheckOptions {
  mode: ProfileMode;
  /** Whether the type's national profiles apply without a claim (false inside `contained`). */
  byType: boolean;
}

/** The profile issues of one resource (embedded resources are checked on their own). */
export function checkProfiles(resource: Record<string, unknown>, base: string, rootResource: unknown, opts: ProfileCheckOptions): Issue[] {
  if (opts.mode === 'off') return [];
  const { byUrl, byType } = loadProfiles();
  const type = resource.resourceType as string;
  const issues: Issue[] = [];
  const selected = new Map<string, CompiledProfile>();
  const claims = (resource.meta as { profile?: unknown } | undefined)?.profile;
  if (Array.isArray(claims)) {
    claims.forEach((claim, i) => {
      if (typeof claim !== 'string') return;
      const url = claim.split('|')[0];
      const profile = byUrl.get(url);
      if (profile) {
        if (profile.type === type) selected.set(url, profile);
        else issues.push(buildIssue('unknownProfile', `Profile ${url} is for ${profile.type}, not ${type}`, [`${base}.meta.profile[${i}]`]));
      } else if (isVitalSignsProfile(url)) {
        // A core vital-signs profile: checked by vital-signs.ts.
      } else if (url.startsWith(NATIONAL_PROFILE_BASE)) {
        issues.push(buildIssue('unknownProfile', `Unknown national profile ${url}`, [`${base}.meta.profile[${i}]`]));
      } else {
        issues.push(buildIssue('unknownProfile', `Profile ${url} is not known to this server; not checked`, [`${base}.meta.profile[${i}]`], 'warning'));
      }
    });
  }
  if (opts.mode === 'enforce' && opts.byType) for (const p of byType.get(type) ?? []) selected.set(p.url, p);
  for (const profile of selected.values()) {
    const cx: CheckContext = { profile, issues, env: { resource, rootResource } };
    checkNodeValue(profile.root, resource, base, cx);
  }
  return issues;
}

interface CheckContext {
  profile: CompiledProfile;
  issues: Issue[];
  env: { resource: unknown; rootResource: unknown };
}

interface Item {
  value: unknown;
  expression: string;
}

function report(cx: CheckContext, kind: ValidationCode, node: RuleNode, message: string, expression: string): void {
  cx.issues.push(buildIssue(kind, `Profile ${cx.profile.name} (${cx.profile.url}), element ${node.id}: ${message}`, [expression]));
}

/** The values of a child element of `obj`, each with its expression; a primitive's `_x` extension counts as present. */
function itemsOf(node: RuleNode, obj: Record<string, unknown>, expression: string, jsonNames: string[]): Item[] {
  const items: Item[] = [];
  for (const jsonName of jsonNames) {
    const value = obj[jsonName];
    const ext = node.primitive ? obj['_' + jsonName] : undefined;
    if (value === undefined && ext === undefined) continue;
    if (Array.isArray(value) || Array.isArray(ext)) {
      const values = Array.isArray(value) ? value : [];
      const exts = Array.isArray(ext) ? ext : [];
      const n = Math.max(values.length, exts.length);
      for (let i = 0; i < n; i++) items.push({ value: values[i] ?? null, expression: `${expression}.${jsonName}[${i}]` });
    } else {
      items.push({ value: value ?? null, expression: `${expression}.${jsonName}` });
    }
  }
  return items;
}

function countProblem(min: number | undefined, max: number | undefined, count: number): string | undefined {
  if (min !== undefined && count < min) return `minimum cardinality ${min}, found ${count}`;
  if (max !== undefined && count > max) return `maximum cardinality ${max === Infinity ? '*' : max}, found ${count}`;
  return undefined;
}

/** Checks one value against its node: fixed, pattern, binding, target, constraints, then children and slices. */
function checkNodeValue(node: RuleNode, value: unknown, expression: string, cx: CheckContext): void {
  if (value === null || value === undefined) return;
  if (node.fixed && !deepEqual(value, node.fixed.value)) {
    report(cx, 'profileFixed', node, `${node.fixed.key} is ${JSON.stringify(node.fixed.value)}, found ${JSON.stringify(value)}`, expression);
  }
  if (node.pattern && !containsPattern(value, node.pattern.value)) {
    report(cx, 'profilePattern', node, `the value must contain ${node.pattern.key} ${JSON.stringify(node.pattern.value)}`, expression);
  }
  if (node.binding) {
    for (const p of checkBinding(node.binding, value)) report(cx, 'profileBinding', node, p.message, expression + p.at);
  }
  if (node.targetTypes) checkTarget(node, value, expression, cx);
  for (const c of node.constraints) {
    const outcome = c.test(value, cx.env);
    if (outcome === false) report(cx, 'profileConstraint', node, `${c.key}: ${c.human}`, expression);
    else if (typeof outcome === 'string') report(cx, 'profileConstraint', node, notEvaluatedMessage(c.key, outcome), expression);
  }
  if (typeof value !== 'object' || Array.isArray(value)) return;
  const obj = value as Record<string, unknown>;
  for (const child of node.children) checkChild(child, obj, expression, cx);
}

function checkChild(child: RuleNode, obj: Record<string, unknown>, expression: string, cx: CheckContext): void {
  const at = `${expression}.${child.name}`;
  for (const item of itemsOf(child, obj, expression, child.excluded)) {
    report(cx, 'profileType', child, `the profile does not allow ${item.expression.slice(expression.length + 1).replace(/\[\d+\]$/, '')} here (allowed: ${child.jsonNames.join(', ')})`, item.expression);
  }
  const items = itemsOf(child, obj, expression, child.jsonNames);
  const problem = countProblem(child.min, child.max, items.length);
  if (problem) report(cx, 'profileCardinality', child, problem, at);
  for (const item of items) checkNodeValue(child, item.value, item.expression, cx);
  if (!child.slicing) return;
  const counts = new Map<string, number>();
  for (const item of items) {
    const slice = child.slicing.slices.find((s) => s.matches(item.value));
    if (!slice) {
      if (child.slicing.rules === 'closed') report(cx, 'profileSlice', child, 'the value matches no slice and the slicing is closed', item.expression);
      continue;
    }
    counts.set(slice.name, (counts.get(slice.name) ?? 0) + 1);
    checkNodeValue(slice.node, item.value, item.expression, cx);
  }
  for (const slice of child.slicing.slices) {
    const sliceProblem = countProblem(slice.node.min ?? slice.min, slice.node.max ?? slice.max, counts.get(slice.name) ?? 0);
    if (sliceProblem) report(cx, 'profileSlice', slice.node, `slice '${slice.name}': ${sliceProblem}`, at);
  }
}

/** A literal reference must point to a resource type the profile allows (conformance of the target itself is a registry check). */
function checkTarget(node: RuleNode, value: unknown, expression: string, cx: CheckContext): void {
  if (value === null || typeof value !== 'object') return;
  const ref = (value as { reference?: unknown }).reference;
  const typeFromRef = typeof ref === 'string' && !ref.startsWith('#') && !ref.startsWith('urn:') ? /([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[^/]+)?$/.exec(ref.split('?')[0])?.[1] : undefined;
  const declared = (value as { type?: unknown }).type;
  const type = typeFromRef ?? (typeof declared === 'string' ? declared : undefined);
  if (type !== undefined && !node.targetTypes!.has(type)) {
    report(cx, 'profileType', node, `the reference must point to ${[...node.targetTypes!].join(' or ')}, not ${type}`, `${expression}.reference`);
  }
}
