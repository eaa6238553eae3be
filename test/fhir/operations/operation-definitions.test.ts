// Every operation the server offers is defined: ours as OperationDefinitions in fhir-profiles/, served at
// /OperationDefinition/{id} and named by the CapabilityStatement; R4's by their canonical URLs (issue 14, item 5).
// https://hl7.org/fhir/R4/operationdefinition.html
import { FHIR_ROUTES } from '../../../src/fhir/routes';
import { conformanceResourcesOf } from '../../../src/validation/conformance-resources';
import { startTestServer, type TestServer } from '../../support/server';

const CORE = new Set(['validate', 'everything', 'match', 'expand', 'validate-code', 'lookup']);
const custom = FHIR_ROUTES.filter((r) => r.operation && !CORE.has(r.operation));
const definitions = conformanceResourcesOf('OperationDefinition') as unknown as {
  id: string;
  url: string;
  code: string;
  resource: string[];
  system: boolean;
  type: boolean;
  instance: boolean;
  parameter: { name: string; use: string }[];
}[];

test('each custom operation of the route table has one OperationDefinition, at the level the route serves', () => {
  expect(custom.length).toBeGreaterThanOrEqual(9);
  for (const route of custom) {
    const types = route.types ?? [];
    expect(`${route.operation} on ${types.join(',')}: ${types.length}`).toBe(`${route.operation} on ${types.join(',')}: 1`);
    const matching = definitions.filter((d) => d.code === route.operation && d.resource.includes(types[0]));
    expect(`${route.operation}: ${matching.map((d) => d.id).join(',')}`).toBe(`${route.operation}: ${types[0]}-${route.operation}`);
    const [d] = matching;
    expect(d.url).toBe(`http://opennhis.org/fhir/OperationDefinition/${d.id}`);
    expect({ system: d.system, type: d.type, instance: d.instance }).toEqual({ system: false, type: route.level === 'type', instance: route.level === 'instance' });
  }
});

test('the workflow operations document their query parameters (ac, secret) and what they return', () => {
  const byId = new Map(definitions.map((d) => [d.id, d]));
  const inputs = (id: string) => byId.get(id)!.parameter.filter((p) => p.use === 'in').map((p) => p.name);
  expect(inputs('Task-accept')).toEqual(['ac']);
  expect(inputs('Task-close')).toEqual(['secret', 'medicationDispense']);
  expect(inputs('Task-dispense')).toEqual(['secret', 'medicationDispense']);
  expect(inputs('Task-reject')).toEqual(['secret', 'reason']);
  expect(byId.get('Task-accept')!.parameter.map((p) => p.name)).toContain('secret');
  expect(byId.get('MedicationRequest-prescribe')!.parameter.map((p) => p.name)).toEqual(['medicationRequest', 'prescription', 'outcome']);
});

describe('served', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  test('every operation in the CapabilityStatement names a definition that exists: ours served here, the rest from R4', async () => {
    const metadata = (await s.fetch('/metadata', { anonymous: true })).body;
    const named = new Set<string>();
    for (const r of metadata.rest[0].resource) for (const o of r.operation ?? []) named.add(o.definition);
    for (const o of metadata.rest[0].operation ?? []) named.add(o.definition);
    const ours = [...named].filter((u) => u.startsWith('http://opennhis.org/'));
    expect(ours.sort()).toEqual(definitions.map((d) => d.url).sort());
    for (const url of ours) {
      const res = await s.fetch(`/OperationDefinition/${url.split('/').pop()}`);
      expect(`${url} → ${res.status}`).toBe(`${url} → 200`);
      expect(res.body.url).toBe(url);
    }
    const core = [...named].filter((u) => !u.startsWith('http://opennhis.org/')).sort();
    expect(core).toEqual(
      ['CodeSystem-lookup', 'Patient-everything', 'Patient-match', 'Resource-validate', 'ValueSet-expand', 'ValueSet-validate-code'].map((id) => `http://hl7.org/fhir/OperationDefinition/${id}`),
    );
    const task = metadata.rest[0].resource.find((r: { type: string }) => r.type === 'Task');
    expect(task.operation.find((o: { name: string }) => o.name === 'accept').definition).toBe('http://opennhis.org/fhir/OperationDefinition/Task-accept');
  });
});
