// Health, readiness, request ids, the CapabilityStatement.
import { RESOURCE_TYPES } from '../../src/shared/resource-types';
import { FHIR_ROUTES } from '../../src/fhir/routes';
import { startTestServer, TestServer } from '../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
}, 180_000);
afterAll(async () => {
  await s.close();
});

test('healthz and readyz', async () => {
  expect((await s.fetch('/healthz')).status).toBe(200);
  const ready = await s.fetch('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body.status).toBe('ready');
});

test('X-Request-Id is honoured and echoed, or generated', async () => {
  const honoured = await s.fetch('/metadata', { headers: { 'x-request-id': 'trace-abc.123' } });
  expect(honoured.headers.get('x-request-id')).toBe('trace-abc.123');
  const generated = await s.fetch('/metadata', { headers: { 'x-request-id': 'bad id with spaces\u00e9' } });
  expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});

test('CapabilityStatement lists every R4 resource type and the interactions the routes serve', async () => {
  const res = await s.fetch('/metadata');
  expect(res.status).toBe(200);
  expect(res.body.resourceType).toBe('CapabilityStatement');
  expect(res.body.fhirVersion).toBe('4.0.1');
  const rest = res.body.rest[0];
  expect(rest.resource.map((r: any) => r.type)).toEqual([...RESOURCE_TYPES]);
  expect(RESOURCE_TYPES.length).toBeGreaterThanOrEqual(145);
  const patient = rest.resource.find((r: any) => r.type === 'Patient');
  const served = new Set(FHIR_ROUTES.filter((r) => r.level !== 'system' && !r.interaction.startsWith('conditional-') && r.interaction !== 'operation' && r.interaction !== 'search-compartment').map((r) => r.interaction));
  expect(new Set(patient.interaction.map((i: any) => i.code))).toEqual(served);
  expect(patient.conditionalCreate).toBe(true);
  expect(patient.conditionalUpdate).toBe(true);
  expect(patient.conditionalDelete).toBe('single');
  expect(patient.versioning).toBe('versioned-update');
  expect(rest.interaction.map((i: any) => i.code)).toEqual(expect.arrayContaining(['history-system', 'search-system', 'transaction', 'batch']));
  expect(patient.searchParam.map((p: any) => p.name)).toEqual(expect.arrayContaining(['identifier', 'birthdate', 'name', '_id']));
});
