/**
 * Writes `openapi.yaml` from the route tables (`npm run openapi`). A test fails
 * while the committed file differs from what this produces.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildOpenApiDocument, findRepositoryRoot, renderOpenApiYaml } from './openapi/document';
import { buildNationalOpenApiDocument } from './openapi/national';

export { buildOpenApiDocument, renderOpenApiYaml } from './openapi/document';
export type { BuildOptions } from './openapi/document';

export function openApiFile(variant: 'full' | 'national' = 'full'): string {
  return path.join(findRepositoryRoot(), variant === 'full' ? 'openapi.yaml' : 'openapi-national.yaml');
}

/** The text `openapi.yaml` (or `openapi-national.yaml`) should hold now. */
export function generateOpenApiYaml(variant: 'full' | 'national' = 'full'): string {
  return renderOpenApiYaml(variant === 'full' ? buildOpenApiDocument() : buildNationalOpenApiDocument());
}

if (require.main === module) {
  for (const variant of ['full', 'national'] as const) {
    const file = openApiFile(variant);
    const doc = variant === 'full' ? buildOpenApiDocument() : buildNationalOpenApiDocument();
    const text = renderOpenApiYaml(doc);
    fs.writeFileSync(file, text);
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).filter((k) => k !== 'parameters').length, 0);
    console.log(`${path.relative(process.cwd(), file)}: ${Object.keys(doc.paths).length} paths, ${operations} operations, ${text.length} bytes`);
  }
}
