/**
 * FHIRPath expressions for issues: ajv's JSON pointers (`/name/0/given/1`)
 * become `Patient.name[0].given[1]`. A primitive's `_x` extension sibling is
 * reported as the element itself (`Patient.birthDate.extension[0]`).
 */
export function pointerToExpression(base: string, instancePath: string): string {
  if (instancePath === '') return base;
  let out = base;
  const segments = instancePath.split('/');
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i];
    const code = seg.charCodeAt(0);
    if (code >= 48 && code <= 57) {
      out += `[${seg}]`;
    } else {
      const name = seg.replace(/~1/g, '/').replace(/~0/g, '~');
      out += '.' + (code === 95 ? name.slice(1) : name);
    }
  }
  return out;
}

/** Appends a child element name. */
export function childExpression(parent: string, name: string): string {
  return `${parent}.${name.charCodeAt(0) === 95 ? name.slice(1) : name}`;
}
