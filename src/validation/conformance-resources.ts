import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * The national conformance resources shipped in `fhir-profiles/`
 * (StructureDefinitions, CodeSystems, ValueSets, NamingSystems, ...), read
 * once at start. `fhir-profiles/examples/` holds example instances and is not
 * loaded here. After the first call nothing is read from disk again.
 */

export interface ConformanceResource {
  resourceType: string;
  id: string;
  url?: string;
  [key: string]: unknown;
}

export interface ConformanceFile {
  /** Path relative to the fhir-profiles directory. */
  file: string;
  resource: ConformanceResource;
}

/** The `fhir-profiles/` directory: found by walking up from this file (works from src/ and dist/src/). */
export function nationalProfilesDir(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'fhir-profiles');
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`fhir-profiles/ not found above ${__dirname}`);
    dir = parent;
  }
}

let cached: ConformanceFile[] | undefined;

/** Every conformance resource in `fhir-profiles/` (sorted by file name; examples excluded). */
export function loadConformanceFiles(): readonly ConformanceFile[] {
  if (cached) return cached;
  const root = nationalProfilesDir();
  const out: ConformanceFile[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) {
        if (name !== 'examples') walk(full);
      } else if (name.endsWith('.json')) {
        const resource = JSON.parse(readFileSync(full, 'utf8')) as ConformanceResource;
        if (typeof resource?.resourceType !== 'string' || typeof resource.id !== 'string') {
          throw new Error(`fhir-profiles/${relative(root, full)} is not a resource with an id`);
        }
        out.push({ file: relative(root, full), resource });
      }
    }
  };
  walk(root);
  cached = out;
  return out;
}

/** Conformance resources of one type. */
export function conformanceResourcesOf(resourceType: string): ConformanceResource[] {
  return loadConformanceFiles()
    .filter((f) => f.resource.resourceType === resourceType)
    .map((f) => f.resource);
}

/** A shipped resource by type and id (for `GET /StructureDefinition/{id}` and friends). */
export function findConformanceResource(resourceType: string, id: string): ConformanceResource | undefined {
  return loadConformanceFiles().find((f) => f.resource.resourceType === resourceType && f.resource.id === id)?.resource;
}
