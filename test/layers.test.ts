// The layers of src/ point one way (README, "Layout"): http → fhir → domain → store → validation /
// repository, with auth, shared, errors and config beneath; the composition root wires them all.
// And the store is the one gate to resource data: the repository modules that read or write
// resources are the store's alone. This test reads every import of src/ and fails on any that breaks
// a rule, naming the file, the import and the rule.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '../src');

/** What each layer (a top-level folder of src/) may import besides itself. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  http: ['fhir', 'auth', 'config', 'shared', 'errors'],
  demo: ['fhir', 'domain', 'store', 'config', 'shared', 'errors'],
  fhir: ['domain', 'store', 'auth', 'validation', 'config', 'shared', 'errors'],
  domain: ['store', 'auth', 'validation', 'repository', 'config', 'shared', 'errors'],
  store: ['repository', 'validation', 'auth', 'config', 'shared', 'errors'],
  auth: ['repository', 'config', 'shared', 'errors'],
  validation: ['config', 'shared', 'errors'],
  repository: ['config', 'shared', 'errors'],
  config: ['shared', 'errors'],
  shared: ['errors'],
  errors: [],
};

/** The composition root and process entry: they wire every layer. */
const ROOT_FILES = new Set(['main.ts', 'server.ts', 'app.ts']);

/** Repository modules holding resource data (and the audit trail): reachable only through the store. */
const STORE_PRIVATE = new Set([
  'repository/resources',
  'repository/search-query',
  'repository/search-index',
  'repository/search-reindex',
  'repository/bulk-write',
  'repository/compartment',
  'repository/patient-record',
  'repository/identity-resources',
  'repository/audit-events',
  'repository/audit-partitions',
  'repository/audit-spool',
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g)) found.push(m[1]);
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) found.push(m[1]);
  return found.filter((s) => s.startsWith('.'));
}

interface Violation {
  file: string;
  imports: string;
  rule: string;
}

function violations(): Violation[] {
  const out: Violation[] = [];
  for (const file of sourceFiles(SRC)) {
    const rel = path.relative(SRC, file);
    const layer = rel.split(path.sep)[0];
    if (ROOT_FILES.has(rel)) continue;
    for (const spec of importsOf(file)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), spec)).split(path.sep).join('/');
      const targetLayer = target.split('/')[0];
      if (targetLayer === layer) continue;
      if (target.startsWith('..')) {
        out.push({ file: rel, imports: spec, rule: 'src/ imports nothing outside src/' });
        continue;
      }
      if (ROOT_FILES.has(`${target}.ts`)) {
        out.push({ file: rel, imports: spec, rule: 'only main.ts imports the composition root' });
        continue;
      }
      const allowed = MAY_IMPORT[layer];
      if (!allowed) {
        out.push({ file: rel, imports: spec, rule: `${layer}/ is not a known layer: add it to the layer rules` });
        continue;
      }
      if (!allowed.includes(targetLayer)) out.push({ file: rel, imports: spec, rule: `${layer}/ may not import ${targetLayer}/` });
      else if (STORE_PRIVATE.has(target) && layer !== 'store') out.push({ file: rel, imports: spec, rule: `${target} holds resource data: only store/ reads or writes it` });
    }
  }
  return out;
}

test('every import of src/ points down the layers, and resource data is reached only through the store', () => {
  expect(violations()).toEqual([]);
});

test('the check sees imports (it is not vacuous)', () => {
  const http = sourceFiles(path.join(SRC, 'http')).flatMap(importsOf);
  expect(http.some((s) => s.includes('../fhir/'))).toBe(true);
});
