// Answers that tell a newcomer what to do instead of a puzzle (issue 14, item 10).
import { startTestServer, type TestServer } from '../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
}, 180_000);
afterAll(async () => {
  await s?.close();
});

const patient = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Petrova' }] });

describe('a body whose media type is missing or a form', () => {
  test('no Content-Type: 415 naming application/fhir+json, nothing stored', async () => {
    const before = (await s.fetch('/Patient?_summary=count&_total=accurate')).body.total;
    // fetch sends a byte array without any Content-Type.
    const res = await s.fetch('/Patient', { method: 'POST', body: new TextEncoder().encode(patient) });
    expect(res.status).toBe(415);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].diagnostics).toBe('The request has a body but no Content-Type; send Content-Type: application/fhir+json');
    expect((await s.fetch('/Patient?_summary=count&_total=accurate')).body.total).toBe(before);
  });

  test("curl -d's default form type on a create: 415 that says how to send the resource", async () => {
    const res = await s.fetch('/Patient', { method: 'POST', body: patient, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(415);
    expect(res.body.issue[0].diagnostics).toContain("accepted only by POST [type]/_search; send the resource as application/fhir+json");
  });

  test('a form still searches, and a POST without a body needs no Content-Type', async () => {
    const search = await s.fetch('/Patient/_search', { method: 'POST', body: 'family=Petrova', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(search.status).toBe(200);
    expect(search.body.type).toBe('searchset');
    const bodyless = await s.fetch('/Task/no-such-task/$accept?ac=123456', { method: 'POST' });
    expect(bodyless.status).not.toBe(415);
  });
});

test('GET /openapi.json: 404 pointing at /openapi.yaml, no token needed', async () => {
  const res = await s.fetch('/openapi.json', { anonymous: true });
  expect(res.status).toBe(404);
  expect(res.body.issue[0].diagnostics).toBe('The OpenAPI description is served as YAML at /openapi.yaml (national workflows: /openapi-national.yaml)');
});

describe('a transaction Bundle posted to /Bundle', () => {
  const transaction = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:0b8f6f0e-5f0b-4a53-9d7e-1b6f6d1b2c3d', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }] };

  test('is stored, with a warning that its entries were not processed', async () => {
    const res = await s.fetch('/Bundle', { method: 'POST', json: transaction, headers: { prefer: 'return=OperationOutcome' } });
    expect(res.status).toBe(201);
    expect(res.body.issue.map((i: { severity: string }) => i.severity)).toEqual(['information', 'warning']);
    expect(res.body.issue[1].diagnostics).toBe(
      'This transaction Bundle was stored as a Bundle resource; its entries were not processed. POST it to the base URL ([base]/) to process it.',
    );
    expect(res.headers.get('warning')).toMatch(/^199 - "This transaction Bundle was stored/);
  });

  test('the default answer (the stored Bundle) carries the warning as a header', async () => {
    const res = await s.fetch('/Bundle', { method: 'POST', json: { ...transaction, type: 'batch' } });
    expect(res.status).toBe(201);
    expect(res.body.resourceType).toBe('Bundle');
    expect(res.headers.get('warning')).toContain('This batch Bundle was stored as a Bundle resource');
  });

  test('a document or collection Bundle is stored without a word', async () => {
    const res = await s.fetch('/Bundle', { method: 'POST', json: { resourceType: 'Bundle', type: 'collection' }, headers: { prefer: 'return=OperationOutcome' } });
    expect(res.status).toBe(201);
    expect(res.body.issue).toHaveLength(1);
    expect(res.headers.get('warning')).toBeNull();
  });
});
