import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { FhirError } from '../errors/fhir-error';
import { outcomeFromError } from '../errors/operation-outcome';
import { stringifyJson } from '../shared/json';
import { FHIR_JSON } from './send';

const SPEC_URL = '/openapi.yaml';

/** The committed `openapi.yaml` at the repository root, found from here in `src/http/` and in `dist/src/http/` alike. */
export function findOpenApiFile(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'openapi.yaml');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`openapi.yaml not found above ${from}; run \`npm run openapi\``);
  }
}

/**
 * `GET /openapi.yaml` serves the committed OpenAPI document, read once here at
 * start; `GET /docs` is Swagger UI over it. Mounted before content negotiation:
 * a browser's `Accept` names XML, which the FHIR routes refuse.
 */
export function docsRoutes(specFile = findOpenApiFile()): Router {
  const spec = fs.readFileSync(specFile, 'utf8');
  const router = Router();
  router.get(SPEC_URL, (_req, res) => {
    res.status(200).setHeader('Content-Type', 'application/yaml; charset=utf-8');
    res.end(spec);
  });
  // Tools that look for the JSON name by habit get a pointer, not a 401 from the FHIR routes behind
  // (middleware, not a route: there is nothing here to describe in the OpenAPI document).
  router.use('/openapi.json', (_req, res) => {
    res.status(404).setHeader('Content-Type', FHIR_JSON);
    res.end(stringifyJson(outcomeFromError(FhirError.notFound(`The OpenAPI description is served as YAML at ${SPEC_URL}`, { code: 'NHIS-1007' }))));
  });
  const uiOptions = {
    swaggerUrl: SPEC_URL,
    customSiteTitle: 'OpenNHIS API',
    // 146 resource types: start collapsed, with a filter box over the tags.
    swaggerOptions: { docExpansion: 'none', filter: true },
  };
  // The assets, and a redirect from /docs to /docs/ so that their relative URLs resolve...
  router.use('/docs', swaggerUi.serveFiles(undefined, uiOptions));
  // ...and the page itself (express matches /docs/ here too).
  router.get('/docs', swaggerUi.setup(undefined, uiOptions));
  return router;
}
