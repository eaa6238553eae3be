// OpenAPI for integrators: openapi.yaml is generated from the route tables
// (FHIR_ROUTES, SERVICE_ROUTES) and must describe exactly what express serves.
import fs from 'node:fs';
import { parse } from 'yaml';
import { generateOpenApiYaml, openApiFile } from '../../scripts/generate-openapi';
import { RESOURCE_TYPES } from '../../src/shared/resource-types';
import { FHIR_ROUTES } from '../../src/fhir/routes';
import { startTestServer, TestServer } from '../support/server';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface OpenApiOperation {
  operationId: string;
  security?: unknown[];
  responses: Record<string, unknown>;
}
type OpenApiPaths = Record<string, Record<string, OpenApiOperation | unknown>>;

const committed = fs.readFileSync(openApiFile(), 'utf8');
const document = parse(committed) as { paths: OpenApiPaths };

function operations(paths: OpenApiPaths): { key: string; operation: OpenApiOperation }[] {
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, operation: operation as OpenApiOperation })),
  );
}

/** The lines around the first difference, so a stale file is easy to see. */
function firstDifference(a: string, b: string): string | undefined {
  if (a === b) return undefined;
  const al = a.split('\n');
  const bl = b.split('\n');
  let i = 0;
  while (i < al.length && i < bl.length && al[i] === bl[i]) i++;
  return `line ${i + 1}:\n  committed: ${al[i] ?? '(end of file)'}\n  generated: ${bl[i] ?? '(end of file)'}`;
}

describe('openapi.yaml', () => {
  test('is what the generator makes from the route tables now', () => {
    const difference = firstDifference(committed, generateOpenApiYaml());
    if (difference) throw new Error(`openapi.yaml is stale: run \`npm run openapi\` and commit it. First difference at ${difference}`);
  }, 120_000);

  test('every operation behind a token documents 401 and 403, and every other one is public on purpose', () => {
    const missing = operations(document.paths)
      .filter(({ operation }) => !(Array.isArray(operation.security) && operation.security.length === 0))
      .filter(({ operation }) => !('401' in operation.responses && '403' in operation.responses))
      .map(({ key }) => key);
    expect(missing).toEqual([]);
    const publicOnes = operations(document.paths)
      .filter(({ operation }) => Array.isArray(operation.security) && operation.security.length === 0)
      .map(({ key }) => key)
      .sort();
    expect(publicOnes).toEqual([
      'GET /.well-known/jwks.json',
      'GET /.well-known/smart-configuration',
      'GET /docs',
      'GET /healthz',
      'GET /metadata',
      'GET /openapi-national.yaml',
      'GET /openapi.yaml',
      'GET /readyz',
      'POST /auth/token',
    ]);
  });

  test('has per-type paths and operationIds for every resource type', () => {
    const ops = new Map(operations(document.paths).map(({ key, operation }) => [key, operation.operationId]));
    for (const type of RESOURCE_TYPES) {
      expect(ops.get(`GET /${type}/{id}`)).toBe(`read${type}`);
      expect(ops.get(`GET /${type}`)).toBe(`search${type}`);
      expect(ops.get(`GET /${type}/{id}/_history/{vid}`)).toBe(`vread${type}`);
    }
  });
});

/** An express 5 (router 2) layer, as far as this test looks into it. */
interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: unknown;
}

/** `METHOD path` of every route registered on the app, nested routers included (`.all()` fallbacks are not routes). */
function registeredRoutes(stack: Layer[], prefix = ''): { method: string; path: string }[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all');
      return paths.flatMap((p) => methods.map((m) => ({ method: m.toUpperCase(), path: prefix + p })));
    }
    if (Array.isArray(layer.handle.stack)) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      return registeredRoutes(layer.handle.stack, prefix + mount);
    }
    return [];
  });
}

/** The types a `:type` route is restricted to (operations defined on one type), by method and express path suffix. */
function typesOf(method: string, expressPath: string): readonly string[] {
  const route = FHIR_ROUTES.find((r) => r.types && r.method === method && expressPath.endsWith(r.path));
  return route?.types ?? RESOURCE_TYPES;
}

/** express path → OpenAPI paths: `:type` over the types the route serves, `:name` → `{name}`. */
function openApiPaths(method: string, expressPath: string): string[] {
  const templated = expressPath.replace(/:(\w+)/g, (_m, name: string) => (name === 'type' ? ':type' : `{${name}}`));
  return templated.includes(':type') ? typesOf(method, expressPath).map((t) => templated.replace(':type', t)) : [templated];
}

describe('against a running server', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  test('every route express registers is in openapi.yaml, and every operation in it is served', () => {
    // The app is the server's request listener.
    const app = s.running.server.listeners('request')[0] as unknown as { router: { stack: Layer[] } };
    const served = new Set(registeredRoutes(app.router.stack).flatMap((r) => openApiPaths(r.method, r.path).map((p) => `${r.method} ${p}`)));
    const documented = new Set(operations(document.paths).map(({ key }) => key));
    const notDocumented = [...served].filter((k) => !documented.has(k)).sort();
    const notServed = [...documented].filter((k) => !served.has(k)).sort();
    expect({ notDocumented, notServed }).toEqual({ notDocumented: [], notServed: [] });
  });

  test('GET /openapi.yaml serves the committed file as YAML', async () => {
    const res = await s.fetch('/openapi.yaml');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(res.text).toBe(committed);
  });

  test('GET /docs is Swagger UI over /openapi.yaml, also for a browser whose Accept names XML', async () => {
    const browser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    const redirect = await s.fetch('/docs', { headers: browser, redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/docs/');

    const page = await s.fetch('/docs', { headers: browser });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('swagger-ui');

    const init = await s.fetch('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('"swaggerUrl": "/openapi.yaml"');
    expect((await s.fetch('/docs/swagger-ui-bundle.js')).status).toBe(200);
  });
});
