import type { ErrorObject } from 'ajv';
import { isLosslessNumber } from 'lossless-json';
import type { Issue } from '../errors/fhir-error';
import { checkBundleRules } from './bundle-rules';
import { buildIssue } from './codes';
import { checkCapabilityStatement, checkSearchParameter, loadSearchParameterDefinitions } from './conformance-rules';
import { loadDefinitions } from './definitions';
import { childExpression, pointerToExpression } from './expression';
import { loadExtensionDefinitions } from './extension-definitions';
import { checkInvariants, warmInvariants } from './invariants';
import { checkProfiles, loadProfiles, type ProfileMode } from './profiles';
import { checkStructure, getStructureValidator, type FhirErrorParams } from './schema';
import { checkVitalSigns, loadVitalSigns } from './vital-signs';

export interface ValidateOptions {
  /** The resource type the request demands (e.g. from the URL); a mismatch is an issue. */
  expectedType?: string;
  /** Replaces the leading resource type in expressions, e.g. `Bundle.entry[3].resource`. */
  pathPrefix?: string;
  /**
   * National profiles (profiles.ts): `claimed` (default) checks only claims in
   * `meta.profile`; `enforce` applies them to every resource of their types
   * (except contained ones); `off` ignores them.
   */
  profiles?: ProfileMode;
  /**
   * `false` leaves out the rule families added for issue 13 (extensions, attachments, narrative
   * links, Bundle fullUrl/link/reference rules, vital signs, conformance consistency), so
   * `bench:validation` can measure their cost in the same run. The server never sets it.
   */
  extendedRules?: boolean;
  /**
   * Whether an Observation coded with a vital-sign LOINC code is checked against the R4
   * vital-signs profiles without claiming them (observation.html#vitals makes them mandatory
   * by code). Default: when `profiles` is `enforce` (production: NATIONAL_PROFILES on, or
   * auto with REGISTRY_MODE=strict). A claimed vital-signs profile is checked unless
   * `profiles` is `off`.
   */
  vitalSignsByCode?: boolean;
}

/**
 * Validates a parsed FHIR R4 resource against the core StructureDefinitions:
 * structure, cardinality, primitive formats, choice types, invariants,
 * embedded resources and Bundle rules. Returns every issue found; `[]` when
 * valid. Never mutates `resource`.
 */
export function validateResource(resource: unknown, options: ValidateOptions = {}): Issue[] {
  const issues: Issue[] = [];
  const profiles = options.profiles ?? 'claimed';
  const run: Run = { profiles, extended: options.extendedRules ?? true, vitalSignsByCode: options.vitalSignsByCode ?? profiles === 'enforce', issues };
  validateInto(resource, options.expectedType, options.pathPrefix, undefined, true, run);
  return issues;
}

/** Compiles every schema and invariant up-front, so the first request does not pay for it. */
export function warmValidation(): void {
  const { resourceTypes } = loadDefinitions();
  for (const t of resourceTypes) getStructureValidator(t);
  warmInvariants(resourceTypes);
  loadProfiles();
  loadExtensionDefinitions();
  loadVitalSigns();
  loadSearchParameterDefinitions();
}

/**
 * The same warm-up one resource type at a time, yielding to the event loop in between, for a server
 * that already listens (development start): requests are answered meanwhile instead of waiting seconds.
 */
export async function warmValidationInSlices(isStopping: () => boolean = () => false): Promise<void> {
  const { resourceTypes } = loadDefinitions();
  for (const t of resourceTypes) {
    if (isStopping()) return;
    getStructureValidator(t);
    warmInvariants([t]);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  for (const load of [loadProfiles, loadExtensionDefinitions, loadVitalSigns, loadSearchParameterDefinitions]) {
    if (isStopping()) return;
    load();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export function isKnownResourceType(name: string): boolean {
  return loadDefinitions().resourceTypes.has(name);
}

interface Run {
  profiles: ProfileMode;
  extended: boolean;
  vitalSignsByCode: boolean;
  issues: Issue[];
}

function validateInto(resource: unknown, expectedType: string | undefined, pathPrefix: string | undefined, rootResource: unknown, byType: boolean, run: Run): void {
  const { issues, profiles } = run;
  const where = pathPrefix ?? expectedType ?? 'Resource';
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
    issues.push(buildIssue('notAResource', 'A resource must be a JSON object', [where]));
    return;
  }
  const type = (resource as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string' || !isKnownResourceType(type)) {
    const message = typeof type === 'string' ? `Unknown resourceType '${type}'` : 'Missing resourceType';
    issues.push(buildIssue('notAResource', message, [`${where}.resourceType`]));
    return;
  }
  const base = pathPrefix ?? type;
  if (expectedType !== undefined && type !== expectedType) {
    issues.push(
      buildIssue('notAResource', `Expected a ${expectedType} but the resourceType is ${type}`, [`${base}.resourceType`]),
    );
  }
  const structure = checkStructure(type, resource);
  for (const e of structure.errors) issues.push(toIssue(e, base));

  const data = (structure.sawLossless ? toPlainNumbers(resource) : resource) as Record<string, unknown>;
  const root = rootResource ?? data;
  for (const issue of checkInvariants(type, data, base, root, run.extended)) issues.push(issue);
  if (type === 'Bundle') {
    for (const issue of checkBundleRules(data, base, isKnownResourceType, run.extended)) issues.push(issue);
  }
  if (profiles !== 'off') {
    for (const issue of checkProfiles(data, base, root, { mode: profiles, byType })) issues.push(issue);
  }
  // Core R4 rules by resource type (the vital-signs profiles follow the profile mode: see vitalSignsByCode).
  if (run.extended) {
    if (type === 'Observation' && profiles !== 'off') issues.push(...checkVitalSigns(data, base, root, run.vitalSignsByCode));
    else if (type === 'SearchParameter') issues.push(...checkSearchParameter(data, base));
    else if (type === 'CapabilityStatement') issues.push(...checkCapabilityStatement(data, base));
  }
  for (const embedded of structure.embedded) {
    // A type's national profile does not apply to contained resources (they are not registry entries).
    const contained = embedded.instancePath.startsWith('/contained/');
    const at = pointerToExpression(base, embedded.instancePath);
    // FHIRPath's %rootResource is the container only for contained resources; a Bundle entry or a
    // Parameters resource is its own root (ref-1 looks for `#id` in the entry's contained, not the Bundle's).
    validateInto(embedded.resource, undefined, at, contained ? root : undefined, byType && !contained, run);
  }
}

function toIssue(e: ErrorObject, base: string): Issue {
  const at = pointerToExpression(base, e.instancePath);
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String((e.params as { additionalProperty: string }).additionalProperty);
      return buildIssue('unknownElement', `Unknown element '${name}'`, [`${at}.${name}`]);
    }
    case 'type': {
      const expected = String((e.params as { type: string | string[] }).type);
      const what = expected.startsWith('array') ? 'an array (the element repeats)' : 'a JSON object';
      return buildIssue('wrongType', `Wrong type: expected ${what}`, [at]);
    }
    case 'minItems':
      return buildIssue('cardinality', 'An array must not be empty (or has too few items)', [at]);
    case 'maxItems':
      return buildIssue('cardinality', `Too many items: ${e.message ?? ''}`, [at]);
    case 'fhirPrimitive':
    case 'fhirObject':
    case 'fhirResource': {
      const p = e.params as unknown as FhirErrorParams;
      const expression = p.children ? p.children.map((c) => childExpression(at, c)) : [at];
      return buildIssue(p.kind, p.message, expression);
    }
    default:
      return buildIssue('wrongType', e.message ?? `Invalid value (${e.keyword})`, [at]);
  }
}

/** A copy with `LosslessNumber`s as JS numbers, for the FHIRPath engine; the input is left alone. */
function toPlainNumbers(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (isLosslessNumber(value)) return Number(value.value);
  if (Array.isArray(value)) return value.map(toPlainNumbers);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toPlainNumbers(v);
  return out;
}
