import { loadDefinitions, type TypeModel, type Variant } from './definitions';

/**
 * The literal references (`Reference.reference`) of a resource, found by a
 * typed walk over the core models: only elements of type Reference count,
 * extensions' `valueReference` included. Contained resources are walked as
 * part of their container (their references resolve the same way); other
 * embedded resources (a Bundle inside a Bundle, `Parameters.parameter.resource`)
 * are not.
 */

export interface FoundReference {
  reference: string;
  /** FHIRPath of the Reference element, e.g. `Bundle.entry[2].resource.subject`. */
  expression: string;
}

const byJsonName = new Map<string, Map<string, Variant>>();

function variantsOf(model: TypeModel): Map<string, Variant> {
  let map = byJsonName.get(model.key);
  if (!map) {
    map = new Map();
    for (const el of model.elements.values()) for (const v of el.variants) map.set(v.jsonName, v);
    byJsonName.set(model.key, map);
  }
  return map;
}

function walk(model: TypeModel, node: Record<string, unknown>, expression: string, out: FoundReference[]): void {
  const { models } = loadDefinitions();
  const variants = variantsOf(model);
  for (const key in node) {
    const variant = variants.get(key);
    if (!variant || variant.kind === 'primitive') continue;
    if (variant.kind === 'resource' && key !== 'contained') continue;
    const value = node[key];
    const items = Array.isArray(value) ? value : [value];
    items.forEach((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) return;
      const at = Array.isArray(value) ? `${expression}.${key}[${i}]` : `${expression}.${key}`;
      const obj = item as Record<string, unknown>;
      if (variant.type === 'Reference' && typeof obj.reference === 'string') out.push({ reference: obj.reference, expression: at });
      const childModel = variant.kind === 'resource' ? models.get(String(obj.resourceType)) : models.get(variant.type);
      if (childModel) walk(childModel, obj, at, out);
    });
  }
}

/** Every literal reference in `resource` (at `expression`), in document order. */
export function findReferences(resource: Record<string, unknown>, expression: string): FoundReference[] {
  const model = loadDefinitions().models.get(String(resource.resourceType));
  const out: FoundReference[] = [];
  if (model?.isResource) walk(model, resource, expression, out);
  return out;
}
