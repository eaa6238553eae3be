import Ajv, { type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import { isLosslessNumber } from 'lossless-json';
import type { ValidationCode } from './codes';
import { loadDefinitions, type ElementModel, type TypeModel } from './definitions';
import { primitiveCheck, REFERENCE_STRING } from './primitives';

/**
 * Structural validation: one JSON schema per resource, datatype and backbone
 * element, generated from the snapshot elements and compiled by ajv on first
 * use. FHIR rules JSON schema cannot express well (a value OR its `_x`
 * extension satisfies `min = 1`, one variant of a choice, primitive formats
 * that accept `LosslessNumber`s, embedded resources) are three small keywords.
 */

const URN = 'urn:fhir:';

/** Parameters our keywords put on their errors, read back by `toIssue`. */
export interface FhirErrorParams {
  kind: ValidationCode;
  message: string;
  /** Child element names under the error's instancePath to report instead of the path itself. */
  children?: string[];
}

export interface EmbeddedResource {
  resource: object;
  instancePath: string;
}

/** State written by the keywords during one (synchronous) ajv call. */
interface RunState {
  embedded: EmbeddedResource[];
  sawLossless: boolean;
}
let run: RunState = { embedded: [], sawLossless: false };

interface DataContext {
  instancePath: string;
}

type KeywordFn = ((schema: never, data: unknown, parentSchema: unknown, cxt: DataContext) => boolean) & {
  errors?: Partial<ErrorObject>[];
};

function fhirError(keyword: string, instancePath: string, params: FhirErrorParams): Partial<ErrorObject> {
  return { keyword, instancePath, message: params.message, params: params as unknown as Record<string, unknown> };
}

interface PrimitiveSchema {
  type: string;
  nullable: boolean;
}

const fhirPrimitive: KeywordFn = (schema: PrimitiveSchema, data, _parent, cxt) => {
  if (data === null && schema.nullable) return true;
  const problem = primitiveCheck(schema.type)(data);
  if (!problem) {
    if (typeof data === 'object') run.sawLossless ||= isLosslessNumber(data);
    return true;
  }
  fhirPrimitive.errors = [fhirError('fhirPrimitive', cxt.instancePath, { kind: problem.kind, message: problem.message })];
  return false;
};

interface ObjectSchema {
  required: { name: string; keys: string[] }[];
  choices: { name: string; groups: string[][] }[];
  nonEmpty: boolean;
}

const fhirObject: KeywordFn = (schema: ObjectSchema, data, _parent, cxt) => {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return true;
  const obj = data as Record<string, unknown>;
  const errors: Partial<ErrorObject>[] = [];
  for (const req of schema.required) {
    if (!req.keys.some((k) => obj[k] !== undefined)) {
      errors.push(
        fhirError('fhirObject', cxt.instancePath, {
          kind: 'cardinality',
          message: `Missing required element '${req.name}'`,
          children: [req.name],
        }),
      );
    }
  }
  for (const choice of schema.choices) {
    let present: string[] | undefined;
    for (const group of choice.groups) {
      if (obj[group[0]] !== undefined || obj[group[1]] !== undefined) (present ??= []).push(group[0]);
    }
    if (present && present.length > 1) {
      errors.push(
        fhirError('fhirObject', cxt.instancePath, {
          kind: 'choiceType',
          message: `Only one of ${choice.name}[x] may be present, found ${present.join(', ')}`,
          children: present,
        }),
      );
    }
  }
  if (schema.nonEmpty) {
    let hasContent = false;
    for (const k in obj) {
      if (k !== 'id') {
        hasContent = true;
        break;
      }
    }
    if (!hasContent) {
      errors.push(
        fhirError('fhirObject', cxt.instancePath, {
          kind: 'invariant',
          message: 'ele-1: All FHIR elements must have a @value or children',
        }),
      );
    }
  }
  if (errors.length === 0) return true;
  fhirObject.errors = errors;
  return false;
};

const fhirResource: KeywordFn = (_schema: true, data, _parent, cxt) => {
  const type = (data as { resourceType?: unknown } | null)?.resourceType;
  if (data !== null && typeof data === 'object' && !Array.isArray(data) && typeof type === 'string' && isKnownResource(type)) {
    run.embedded.push({ resource: data, instancePath: cxt.instancePath });
    return true;
  }
  fhirResource.errors = [
    fhirError('fhirResource', cxt.instancePath, {
      kind: 'notAResource',
      message:
        data === null || typeof data !== 'object' || Array.isArray(data)
          ? 'Expected a resource (a JSON object)'
          : typeof type === 'string'
            ? `Unknown resourceType '${type}'`
            : 'Missing resourceType',
    }),
  ];
  return false;
};

function isKnownResource(type: string): boolean {
  return loadDefinitions().resourceTypes.has(type);
}

function refTo(key: string): SchemaObject {
  return { $ref: URN + key };
}

function elementProperties(el: ElementModel, properties: Record<string, SchemaObject>, modelKey: string): void {
  const arrayOf = (items: SchemaObject): SchemaObject => {
    const s: SchemaObject = { type: 'array', minItems: Math.max(1, el.min), items };
    if (Number.isFinite(el.max)) s.maxItems = el.max;
    return s;
  };
  for (const v of el.variants) {
    let item: SchemaObject;
    switch (v.kind) {
      case 'primitive': {
        // Reference.reference gets its own check (no climbing paths); other strings their type's.
        const type = modelKey === 'Reference' && el.name === 'reference' ? REFERENCE_STRING : v.type;
        properties[v.jsonName] = el.isArray ? arrayOf({ fhirPrimitive: { type, nullable: true } }) : { fhirPrimitive: { type, nullable: false } };
        properties['_' + v.jsonName] = el.isArray ? arrayOf(refTo('Element?')) : refTo('Element');
        continue;
      }
      case 'resource':
        item = { fhirResource: true };
        break;
      default:
        item = refTo(v.type);
    }
    properties[v.jsonName] = el.isArray ? arrayOf(item) : item;
  }
}

function modelSchema(model: TypeModel, id: string, nullable: boolean): SchemaObject {
  const properties: Record<string, SchemaObject> = {};
  const required: ObjectSchema['required'] = [];
  const choices: ObjectSchema['choices'] = [];
  if (model.isResource) properties.resourceType = { type: 'string' };
  for (const el of model.elements.values()) {
    elementProperties(el, properties, model.key);
    const keys = el.variants.flatMap((v) => (v.kind === 'primitive' ? [v.jsonName, '_' + v.jsonName] : [v.jsonName]));
    if (el.min > 0) required.push({ name: el.isChoice ? `${el.name}[x]` : el.name, keys });
    if (el.isChoice && el.variants.length > 1) {
      choices.push({ name: el.name, groups: el.variants.map((v) => [v.jsonName, '_' + v.jsonName]) });
    }
  }
  return {
    $id: URN + id,
    type: nullable ? ['object', 'null'] : 'object',
    properties,
    additionalProperties: false,
    fhirObject: { required, choices, nonEmpty: !model.isResource } satisfies ObjectSchema,
  };
}

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function getAjv(): Ajv {
  if (ajv) return ajv;
  const instance = new Ajv({ allErrors: true, strict: false, inlineRefs: true, messages: true });
  instance.addKeyword({ keyword: 'fhirPrimitive', validate: fhirPrimitive as never, errors: true, schemaType: 'object' });
  instance.addKeyword({ keyword: 'fhirObject', validate: fhirObject as never, errors: true, schemaType: 'object' });
  instance.addKeyword({ keyword: 'fhirResource', validate: fhirResource as never, errors: true, schemaType: 'boolean' });
  const { models } = loadDefinitions();
  for (const model of models.values()) instance.addSchema(modelSchema(model, model.key, false));
  const element = models.get('Element');
  if (element) instance.addSchema(modelSchema(element, 'Element?', true));
  ajv = instance;
  return instance;
}

/** The compiled structural validator of a resource type (compiled once, then cached). */
export function getStructureValidator(resourceType: string): ValidateFunction {
  let fn = validators.get(resourceType);
  if (!fn) {
    fn = getAjv().getSchema(URN + resourceType);
    if (!fn) throw new Error(`No schema for ${resourceType}`);
    validators.set(resourceType, fn);
  }
  return fn;
}

export interface StructureResult {
  errors: ErrorObject[];
  embedded: EmbeddedResource[];
  sawLossless: boolean;
}

export function checkStructure(resourceType: string, resource: object): StructureResult {
  const validate = getStructureValidator(resourceType);
  const previous = run;
  const state: RunState = { embedded: [], sawLossless: false };
  run = state;
  try {
    const ok = validate(resource);
    return { errors: ok ? [] : (validate.errors ?? []), embedded: state.embedded, sawLossless: state.sawLossless };
  } finally {
    run = previous;
  }
}
