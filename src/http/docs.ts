import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Router, type Request, type Response } from 'express';
import swaggerUi from 'swagger-ui-express';
import { FhirError } from '../errors/fhir-error';
import { outcomeFromError } from '../errors/operation-outcome';
import { stringifyJson } from '../shared/json';
import { FHIR_JSON } from './send';

const SPEC_URL = '/openapi.yaml';
const NATIONAL_SPEC_URL = '/openapi-national.yaml';

/** A committed OpenAPI file at the repository root, found from here in `src/http/` and in `dist/src/http/` alike. */
export function findOpenApiFile(from = __dirname, name = 'openapi.yaml'): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`${name} not found above ${from}; run \`npm run openapi\``);
  }
}

/**
 * One OpenAPI document as YAML, read once at start; gzip-compressed on first demand (the full one is
 * 3.3 MB, about 5% of that compressed) for clients that accept it.
 */
function yamlDocument(file: string): (req: Request, res: Response) => void {
  const text = fs.readFileSync(file);
  let gzipped: Buffer | undefined;
  return (req, res) => {
    res.status(200).setHeader('Content-Type', 'application/yaml; charset=utf-8');
    res.vary('Accept-Encoding');
    if (/\bgzip\b/i.test(req.header('accept-encoding') ?? '')) {
      gzipped ??= gzipSync(text, { level: 9 });
      res.setHeader('Content-Encoding', 'gzip');
      res.end(gzipped);
      return;
    }
    res.end(text);
  };
}

/**
 * `GET /openapi.yaml` serves the full OpenAPI document, `GET /openapi-national.yaml` the short one of
 * the national workflows; `GET /docs` is Swagger UI over both (the national one first). Mounted before
 * content negotiation: a browser's `Accept` names XML, which the FHIR routes refuse.
 */
export function docsRoutes(specFile = findOpenApiFile(), nationalSpecFile = findOpenApiFile(path.dirname(specFile), 'openapi-national.yaml')): Router {
  const router = Router();
  router.get(SPEC_URL, yamlDocument(specFile));
  router.get(NATIONAL_SPEC_URL, yamlDocument(nationalSpecFile));
  // Tools that look for the JSON name by habit get a pointer, not a 401 from the FHIR routes behind
  // (middleware, not a route: there is nothing here to describe in the OpenAPI document).
  router.use('/openapi.json', (_req, res) => {
    res.status(404).setHeader('Content-Type', FHIR_JSON);
    res.end(stringifyJson(outcomeFromError(FhirError.notFound(`The OpenAPI description is served as YAML at ${SPEC_URL} (national workflows: ${NATIONAL_SPEC_URL})`, { code: 'NHIS-1007' }))));
  });
  const national = 'National API (workflows, registries)';
  const uiOptions = {
    swaggerUrl: SPEC_URL,
    // The top bar's selector between the two documents.
    explorer: true,
    customSiteTitle: 'OpenNHIS API',
    swaggerOptions: {
      urls: [
        { url: NATIONAL_SPEC_URL, name: national },
        { url: SPEC_URL, name: 'Full API (every resource type)' },
      ],
      'urls.primaryName': national,
      // 146 resource types in the full one: start collapsed, with a filter box over the tags.
      docExpansion: 'none',
      filter: true,
    },
  };
  // The assets, and a redirect from /docs to /docs/ so that their relative URLs resolve...
  router.use('/docs', swaggerUi.serveFiles(undefined, uiOptions));
  // ...and the page itself (express matches /docs/ here too).
  router.get('/docs', swaggerUi.setup(undefined, uiOptions));
  return router;
}
