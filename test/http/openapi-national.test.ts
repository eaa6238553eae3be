// The national API description beside the full one, the token flow as OAuth 2.0 client credentials with
// private_key_jwt, examples for the workflow operations and the transaction endpoint, both documents served
// gzip-compressed (issue 14, item 5).
import fs from 'node:fs';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { generateOpenApiYaml, openApiFile } from '../../scripts/generate-openapi';
import { workflowExamples } from '../../scripts/openapi/workflow-operations';
import { validateResource } from '../../src/validation';
import { startTestServer, type TestServer } from '../support/server';

const national = fs.readFileSync(openApiFile('national'), 'utf8');
const full = fs.readFileSync(openApiFile('full'), 'utf8');
type Doc = { paths: Record<string, Record<string, any>>; components: { securitySchemes: Record<string, any> }; security: unknown[] };
const nationalDoc = parse(national) as Doc;
const fullDoc = parse(full) as Doc;

test('openapi-national.yaml is what the generator makes from the route tables now', () => {
  expect(national === generateOpenApiYaml('national') ? 'current' : 'stale: run `npm run openapi`').toBe('current');
}, 120_000);

test('it holds the workflows, the registries and the transaction endpoint, and is a small fraction of the full one', () => {
  const paths = Object.keys(nationalDoc.paths);
  for (const p of ['/', '/MedicationRequest/$prescribe', '/Task/{id}/$accept', '/Task/{id}/$close', '/Task/{id}/$reject', '/Task/{id}/$dispense', '/Task/{id}/$abort', '/MedicationRequest/{id}/$timeline', '/Patient', '/Practitioner', '/Organization', '/Patient/$match', '/auth/token']) {
    expect(paths).toContain(p);
  }
  expect(paths).not.toContain('/Observation');
  expect(national.length).toBeLessThan(full.length / 10);
});

test.each([
  ['national', nationalDoc],
  ['full', fullDoc],
])('%s: the workflow operations name their query parameters and carry request and answer examples', (_name, doc) => {
  const op = (path: string) => doc.paths[path].post ?? doc.paths[path].get;
  const params = (path: string) => (op(path).parameters ?? []).map((p: { name?: string }) => p.name);
  expect(params('/Task/{id}/$accept')).toEqual(['ac']);
  expect(params('/Task/{id}/$close')).toEqual(['secret']);
  expect(params('/Task/{id}/$reject')).toEqual(['secret', 'reason']);
  expect(op('/Task/{id}/$accept').parameters[0].required).toBe(true);
  for (const path of ['/MedicationRequest/$prescribe', '/Task/{id}/$accept', '/Task/{id}/$reject', '/Task/{id}/$dispense', '/Task/{id}/$close', '/Task/{id}/$abort', '/MedicationRequest/{id}/$timeline', '/']) {
    const answer = op(path).responses['200'].content['application/fhir+json'];
    expect(`${path}: ${Object.keys(answer.examples ?? {}).length > 0}`).toBe(`${path}: true`);
    const request = op(path).requestBody?.content?.['application/fhir+json'];
    if (request) expect(`${path} request: ${Object.keys(request.examples ?? {}).length > 0}`).toBe(`${path} request: true`);
  }
});

test('the token flow is an OAuth 2.0 client-credentials scheme with private_key_jwt, beside the bearer token it yields', () => {
  for (const doc of [nationalDoc, fullDoc]) {
    const scheme = doc.components.securitySchemes.smartBackendServices;
    expect(scheme.type).toBe('oauth2');
    expect(scheme.flows.clientCredentials.tokenUrl).toBe('/auth/token');
    expect(scheme.description).toContain('private_key_jwt');
    expect(scheme.description).toContain('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(doc.security).toEqual([{ bearer: [] }, { smartBackendServices: [] }]);
  }
});

test('every example resource is valid FHIR R4 (profiles where claimed), request and answer', () => {
  const examples = workflowExamples();
  expect(new Set(examples.map((e) => e.operation))).toEqual(new Set(['$prescribe', '$accept', '$reject', '$dispense', '$close', '$abort', '$timeline', 'transaction']));
  for (const e of examples) {
    const issues = validateResource(e.value).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    expect(`${e.operation} ${e.kind}: ${JSON.stringify(issues)}`).toBe(`${e.operation} ${e.kind}: []`);
  }
});

describe('served', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      http.get(`${s.url}${path}`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
  }

  test.each([
    ['/openapi.yaml', full],
    ['/openapi-national.yaml', national],
  ])('%s: gzip for clients that accept it, plain for the others, no token needed', async (path, text) => {
    const gz = await rawGet(path, { 'accept-encoding': 'gzip, deflate, br' });
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toContain('Accept-Encoding');
    expect(gunzipSync(gz.body).toString('utf8')).toBe(text);
    expect(gz.body.length).toBeLessThan(text.length / 5);
    const plain = await rawGet(path, {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString('utf8')).toBe(text);
  });

  test('/docs offers both documents, the national one first', async () => {
    const init = await s.fetch('/docs/swagger-ui-init.js', { anonymous: true });
    expect(init.text).toContain('"url": "/openapi-national.yaml"');
    expect(init.text).toContain('"urls.primaryName": "National API (workflows, registries)"');
  });
});
