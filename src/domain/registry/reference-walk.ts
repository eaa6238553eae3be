/**
 * The References of a resource with the element that holds each, as FHIRPath
 * into the resource (`MedicationRequest.subject`,
 * `Encounter.participant[0].individual`). Contained resources and `#local`
 * references are skipped: they do not point at the registry.
 */
export interface FoundRegistryReference {
  path: string;
  reference?: string;
  type?: string;
  identifier?: { system: string; value: string };
}

const REFERENCE_KEYS = new Set(['reference', 'type', 'identifier', 'display', 'id', 'extension']);

function asReference(node: Record<string, unknown>): Omit<FoundRegistryReference, 'path'> | undefined {
  const keys = Object.keys(node);
  if (keys.length === 0 || !keys.every((k) => REFERENCE_KEYS.has(k))) return undefined;
  const reference = typeof node.reference === 'string' ? node.reference : undefined;
  const ident = node.identifier as { system?: unknown; value?: unknown } | undefined;
  const identifier =
    ident && typeof ident === 'object' && !Array.isArray(ident) && typeof ident.system === 'string' && typeof ident.value === 'string'
      ? { system: ident.system, value: ident.value }
      : undefined;
  if (reference === undefined && identifier === undefined) return undefined;
  return { reference, identifier, type: typeof node.type === 'string' ? node.type : undefined };
}

export function findRegistryReferences(resource: { resourceType: string } & Record<string, unknown>): FoundRegistryReference[] {
  const out: FoundRegistryReference[] = [];
  const walk = (node: unknown, path: string, root: boolean): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${path}[${i}]`, false));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (!root) {
      const ref = asReference(obj);
      if (ref) {
        if (!ref.reference?.startsWith('#')) out.push({ path, ...ref });
        return;
      }
    }
    for (const [key, value] of Object.entries(obj)) {
      if (root && (key === 'contained' || key === 'meta' || key === 'text')) continue;
      if (key.startsWith('_')) continue;
      walk(value, `${path}.${key}`, false);
    }
  };
  walk(resource, resource.resourceType, true);
  return out;
}
