import type { Issue } from '../errors/fhir-error';
import { buildIssue } from './codes';
import { typeLineage } from './definitions';
import { loadExtensionDefinitions, type ExtensionDefinition, type ValueRule } from './extension-definitions';
import { checkNarrativeLinkExtension, NARRATIVE_LINK_EXTENSION, type NarrativeEnv } from './narrative-rules';

/**
 * Extensions checked against their definitions (extension-definitions.ts;
 * https://hl7.org/fhir/R4/extensibility.html): the context where each may
 * appear, `extension` vs `modifierExtension`, the allowed `value[x]` types
 * and cardinality, and a complex extension's sub-extensions. An extension the
 * server does not know is accepted unchecked; under the R4 core namespace,
 * whose definitions are all known, that gets a warning (a typo, or another
 * FHIR version's extension).
 */

const CORE_EXTENSION_BASE = 'http://hl7.org/fhir/StructureDefinition/';

/** Where the extensions sit: the element that holds them. */
export interface ExtensionSite {
  /** Element path from the resource type, without indices: `Patient.name.family`. */
  path: string;
  /** FHIR type of the holder: a datatype (`HumanName`), a primitive (`string`), a backbone model key or the resource type. */
  type: string;
  /** Model key of the holder's parent and the holder's element name, for datatype-relative contexts (`HumanName.family`). */
  parentKey?: string;
  name?: string;
  isResource: boolean;
}

/** The names a context expression may use for this site. */
function siteNames(site: ExtensionSite): Set<string> {
  const names = new Set<string>([site.path, ...typeLineage(site.type)]);
  if (site.parentKey && site.name) names.add(`${site.parentKey}.${site.name}`);
  if (site.type.includes('.')) names.add('BackboneElement');
  // Every node is an Element for the purposes of an `Element` context, resources included (the core
  // narrativeLink and rendering extensions are defined on Element and used on resources).
  names.add('Element');
  if (site.isResource) names.add('Resource');
  return names;
}

function contextAllows(def: ExtensionDefinition, names: Set<string>, holderUrl: string | undefined): boolean {
  if (def.contexts.length === 0 || names.has('*')) return true;
  for (const c of def.contexts) {
    if (c.type === 'fhirpath') return true; // a FHIRPath context is not evaluated here: not refused
    if (c.type === 'extension' ? c.expression === holderUrl : names.has(c.expression)) return true;
  }
  return false;
}

/** `value[x]` suffixes present on an extension (`valueString`, or `_valueString` alone). */
function valueTypes(ext: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k in ext) {
    const key = k.charCodeAt(0) === 95 ? k.slice(1) : k;
    if (key.length > 5 && key.startsWith('value') && key.charCodeAt(5) >= 65 && key.charCodeAt(5) <= 90) {
      const suffix = key.slice(5);
      if (!out.includes(suffix)) out.push(suffix);
    }
  }
  return out;
}

function checkValue(rule: ValueRule, ext: Record<string, unknown>, what: string, at: string, issues: Issue[]): void {
  const present = valueTypes(ext);
  if (present.length > 0 && rule.max === 0) {
    issues.push(buildIssue('extension', `${what} is a complex extension: it takes nested extensions, not value[x]`, [at]));
    return;
  }
  for (const t of present) {
    if (rule.types && !rule.types.has(t)) {
      issues.push(buildIssue('extension', `${what} does not allow value${t} (allowed: ${[...rule.types].map((x) => 'value' + x).join(', ')})`, [`${at}.value${t}`]));
    }
  }
  if (present.length === 0 && rule.min > 0 && !Array.isArray(ext.extension)) {
    issues.push(buildIssue('extension', `${what} requires a value[x]`, [at]));
  }
}

interface CheckContext {
  env: NarrativeEnv;
  issues: Issue[];
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** One extension (and its nested ones) found under `slot` of a holder. */
function checkOne(ext: Record<string, unknown>, at: string, slot: 'extension' | 'modifierExtension', names: Set<string>, holderUrl: string | undefined, cx: CheckContext): void {
  const url = typeof ext.url === 'string' ? ext.url.split('|')[0] : undefined;
  if (url === undefined) return; // url is 1..1: the structural check reports it
  const def = loadExtensionDefinitions().get(url);
  if (!def) {
    if (url.startsWith(CORE_EXTENSION_BASE)) {
      cx.issues.push(buildIssue('unknownExtension', `Extension ${url} is not defined by FHIR R4 (another version, or a typo); not checked`, [at], 'warning'));
    }
    checkNested(ext, at, undefined, cx, url);
    return;
  }
  if (def.isModifier && slot === 'extension') {
    cx.issues.push(buildIssue('extension', `Extension ${url} is a modifier extension: it belongs in modifierExtension`, [at]));
  } else if (!def.isModifier && slot === 'modifierExtension') {
    cx.issues.push(buildIssue('extension', `Extension ${url} is not a modifier extension: it belongs in extension`, [at]));
  }
  if (!contextAllows(def, names, holderUrl)) {
    const allowed = def.contexts.map((c) => c.expression).join(', ');
    const where = [...names][0];
    cx.issues.push(buildIssue('extension', `Extension ${url} is not allowed on ${where} (its contexts: ${allowed})`, [at]));
  }
  checkValue(def.value, ext, `Extension ${url}`, at, cx.issues);
  if (url === NARRATIVE_LINK_EXTENSION) checkNarrativeLinkExtension(ext.valueUrl, at, cx.env, cx.issues);
  checkNested(ext, at, def, cx, url);
}

/** The nested extensions of `ext`: a complex extension's sub-extensions, or extensions on the extension. */
function checkNested(ext: Record<string, unknown>, at: string, def: ExtensionDefinition | undefined, cx: CheckContext, url: string): void {
  const nested = ext.extension;
  if (!Array.isArray(nested) || nested.length === 0) return;
  if (def && def.nestedMax === 0) {
    cx.issues.push(buildIssue('extension', `Extension ${url} is a simple extension: it takes value[x], not nested extensions`, [`${at}.extension`]));
    return;
  }
  const counts = new Map<string, number>();
  const names = new Set(['Extension', 'Element']);
  nested.forEach((raw, i) => {
    const sub = asObject(raw);
    const subUrl = typeof sub?.url === 'string' ? sub.url : undefined;
    if (!sub || subUrl === undefined) return;
    const subAt = `${at}.extension[${i}]`;
    const slice = def?.slices.get(subUrl);
    if (slice) {
      counts.set(subUrl, (counts.get(subUrl) ?? 0) + 1);
      checkValue(slice.value, sub, `Sub-extension '${subUrl}' of ${url}`, subAt, cx.issues);
    } else if (subUrl.includes(':')) {
      checkOne(sub, subAt, 'extension', names, url, cx);
    } else if (def && def.slices.size > 0) {
      cx.issues.push(buildIssue('extension', `Sub-extension '${subUrl}' is not defined by ${url} (defined: ${[...def.slices.keys()].join(', ')})`, [subAt]));
    }
  });
  if (!def) return;
  for (const slice of def.slices.values()) {
    const n = counts.get(slice.url) ?? 0;
    if (n < slice.min || n > slice.max) {
      const card = `${slice.min}..${slice.max === Infinity ? '*' : slice.max}`;
      cx.issues.push(buildIssue('extension', `Sub-extension '${slice.url}' of ${url} occurs ${n} times (allowed ${card})`, [`${at}.extension`]));
    }
  }
}

/**
 * Values inside an ElementDefinition's fixed[x], pattern[x] and example value are instances of
 * arbitrary types shown out of place: extension contexts do not apply there.
 */
const OUT_OF_CONTEXT = /\.element\.(?:fixed|pattern|example\.value)(?:\.|$)/;

/** The `extension` and `modifierExtension` of one holder node (at `expression`). */
export function checkExtensions(node: Record<string, unknown>, expression: string, site: ExtensionSite, env: NarrativeEnv, issues: Issue[]): void {
  let names: Set<string> | undefined;
  const cx: CheckContext = { env, issues };
  for (const slot of ['extension', 'modifierExtension'] as const) {
    const list = node[slot];
    if (!Array.isArray(list)) continue;
    names ??= OUT_OF_CONTEXT.test(site.path) ? new Set(['Element', '*']) : siteNames(site);
    list.forEach((raw, i) => {
      const ext = asObject(raw);
      if (ext) checkOne(ext, `${expression}.${slot}[${i}]`, slot, names!, undefined, cx);
    });
  }
}
