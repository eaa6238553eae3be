/**
 * Writes `openapi.yaml` from the route tables (`npm run openapi`). A test fails
 * while the committed file differs from what this produces.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildOpenApiDocument, findRepositoryRoot, renderOpenApiYaml } from './openapi/document';

export { buildOpenApiDocument, renderOpenApiYaml } from './openapi/document';
export type { BuildOptions } from './openapi/document';

export function openApiFile(): string {
  return path.join(findRepositoryRoot(), 'openapi.yaml');
}

/** The text `openapi.yaml` should hold now. */
export function generateOpenApiYaml(): string {
  return renderOpenApiYaml(buildOpenApiDocument());
}

if (require.main === module) {
  const file = openApiFile();
  const doc = buildOpenApiDocument();
  const text = renderOpenApiYaml(doc);
  fs.writeFileSync(file, text);
  const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).filter((k) => k !== 'parameters').length, 0);
  console.log(`${path.relative(process.cwd(), file)}: ${Object.keys(doc.paths).length} paths, ${operations} operations, ${text.length} bytes`);
}
