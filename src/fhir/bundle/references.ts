/**
 * References inside a resource, wherever they are: nested backbone elements,
 * extensions (valueReference), contained resources. A FHIR `Reference` is the
 * only datatype with an element named `reference` holding a string, so every
 * string under a `reference` key is one. Only `Reference.reference` is
 * rewritten; `uri`/`url` elements (Attachment.url, valueUri, narrative links)
 * are left as sent (the spec makes rewriting those optional).
 * https://hl7.org/fhir/R4/bundle.html#references
 */
export interface FoundReference {
  value: string;
  /** FHIRPath-like location relative to the resource, e.g. `participant[0].individual.reference`. */
  path: string;
}

type Json = unknown;

/** `participant[0].individual.reference` from the keys and indexes on the way down. */
function pathOf(trail: (string | number)[]): string {
  let path = '';
  for (const step of trail) path = typeof step === 'number' ? `${path}[${step}]` : path ? `${path}.${step}` : step;
  return path;
}

/**
 * `trail` is the way down, shared and mutated: the path text is built only for the
 * references found, not for every element walked past.
 */
function walk(node: Json, trail: (string | number)[], visit: (value: string, path: string) => string | undefined): Json {
  if (Array.isArray(node)) {
    let copy: Json[] | undefined;
    for (let i = 0; i < node.length; i++) {
      const item: Json = node[i];
      if (item === null || typeof item !== 'object') continue;
      trail.push(i);
      const next = walk(item, trail, visit);
      trail.pop();
      if (next !== item) (copy ??= [...node])[i] = next;
    }
    return copy ?? node;
  }
  if (node === null || typeof node !== 'object' || !isPlainObject(node)) return node;
  let copy: Record<string, Json> | undefined;
  const obj = node as Record<string, Json>;
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    let next: Json = value;
    if (key === 'reference' && typeof value === 'string') {
      trail.push(key);
      next = visit(value, pathOf(trail)) ?? value;
      trail.pop();
    } else if (value !== null && typeof value === 'object') {
      trail.push(key);
      next = walk(value, trail, visit);
      trail.pop();
    }
    if (next !== value) (copy ??= { ...obj })[key] = next;
  }
  return copy ?? node;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Every Reference.reference string in the resource. */
export function findReferences(resource: Json): FoundReference[] {
  const found: FoundReference[] = [];
  walk(resource, [], (value, path) => {
    found.push({ value, path });
    return undefined;
  });
  return found;
}

/**
 * A copy of `resource` in which `replace` may swap each reference string
 * (return undefined to keep it). Untouched subtrees are shared, not copied.
 */
export function rewriteReferences<T>(resource: T, replace: (value: string, path: string) => string | undefined): T {
  return walk(resource, [], replace) as T;
}

/** `urn:uuid:...` / `urn:oid:...`: identities that only mean something inside this Bundle. */
export function isBundleLocalUrl(value: string): boolean {
  return /^urn:(uuid|oid):/i.test(value);
}

/** `Patient?identifier=sys|val`: a conditional reference, resolved by search. */
export function parseConditionalReference(value: string): { type: string; criteria: string } | undefined {
  const m = /^([A-Z][A-Za-z]+)\?(.+)$/.exec(value);
  return m ? { type: m[1], criteria: m[2] } : undefined;
}
