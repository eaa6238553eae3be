// REST interactions against a real server on fresh PostgreSQL: https://hl7.org/fhir/R4/http.html
import { buildObservation, buildPatient } from '../support/fixtures';
import { startTestServer, TestServer } from '../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ env: { BODY_LIMIT: '64kb' } });
}, 180_000);
afterAll(async () => {
  await s.close();
});

describe('create and read', () => {
  test('create assigns id, versionId 1, lastUpdated, and Location/ETag/Last-Modified headers', async () => {
    const res = await s.fetch('/Patient', { method: 'POST', json: buildPatient() });
    expect(res.status).toBe(201);
    expect(res.body.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    expect(res.body.meta.versionId).toBe('1');
    expect(Date.parse(res.body.meta.lastUpdated)).not.toBeNaN();
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(res.headers.get('location')).toBe(`${s.url}/Patient/${res.body.id}/_history/1`);
    expect(res.headers.get('last-modified')).toBe(new Date(res.body.meta.lastUpdated).toUTCString());
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);

    const read = await s.fetch(`/Patient/${res.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
    expect(read.headers.get('etag')).toBe('W/"1"');
  });

  test('a client id in the body of a create is replaced by the server id', async () => {
    const res = await s.fetch('/Patient', { method: 'POST', json: buildPatient({ id: 'mine' }) });
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe('mine');
  });

  test('application/json is accepted as well as application/fhir+json', async () => {
    const res = await s.fetch('/Patient', { method: 'POST', body: JSON.stringify(buildPatient()), headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(res.status).toBe(201);
  });

  test('every R4 resource type can be stored (a sample of unusual ones)', async () => {
    for (const resource of [
      { resourceType: 'Basic', code: { text: 'x' } },
      { resourceType: 'SubstancePolymer' },
      {
        resourceType: 'EffectEvidenceSynthesis',
        status: 'draft',
        population: { reference: 'Group/1' },
        exposure: { reference: 'EvidenceVariable/1' },
        exposureAlternative: { reference: 'EvidenceVariable/2' },
        outcome: { reference: 'EvidenceVariable/3' },
      },
      { resourceType: 'Binary', contentType: 'text/plain', data: 'aGVsbG8=' },
    ]) {
      const res = await s.fetch(`/${resource.resourceType}`, { method: 'POST', json: resource });
      expect([resource.resourceType, res.status]).toEqual([resource.resourceType, 201]);
    }
  });
});

describe('Prefer: return', () => {
  test('minimal has no body; OperationOutcome returns an outcome', async () => {
    const minimal = await s.fetch('/Patient', { method: 'POST', json: buildPatient(), headers: { prefer: 'return=minimal' } });
    expect(minimal.status).toBe(201);
    expect(minimal.text).toBe('');
    expect(minimal.headers.get('location')).toMatch(/\/Patient\/[^/]+\/_history\/1$/);
    const oo = await s.fetch('/Patient', { method: 'POST', json: buildPatient(), headers: { prefer: 'return=OperationOutcome' } });
    expect(oo.status).toBe(201);
    expect(oo.body.resourceType).toBe('OperationOutcome');
    const rep = await s.fetch('/Patient', { method: 'POST', json: buildPatient(), headers: { prefer: 'return=representation' } });
    expect(rep.body.resourceType).toBe('Patient');
  });
});

describe('update, vread, history, delete', () => {
  test('versions increase; vread returns each; history lists newest first', async () => {
    const created = await s.fetch('/Patient', { method: 'POST', json: buildPatient() });
    const id = created.body.id;
    const v2 = await s.fetch(`/Patient/${id}`, { method: 'PUT', json: { ...created.body, gender: 'other' } });
    expect(v2.status).toBe(200);
    expect(v2.body.meta.versionId).toBe('2');
    expect(v2.headers.get('etag')).toBe('W/"2"');
    const v3 = await s.fetch(`/Patient/${id}`, { method: 'PUT', json: { ...created.body, gender: 'male' } });
    expect(v3.body.meta.versionId).toBe('3');

    const old = await s.fetch(`/Patient/${id}/_history/1`);
    expect(old.status).toBe(200);
    expect(old.body.gender).toBe('female');
    expect(old.body.meta.versionId).toBe('1');
    expect((await s.fetch(`/Patient/${id}/_history/9`)).status).toBe(404);

    const hist = await s.fetch(`/Patient/${id}/_history`);
    expect(hist.status).toBe(200);
    expect(hist.body.type).toBe('history');
    expect(hist.body.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['3', '2', '1']);
    expect(hist.body.entry[2].request).toEqual({ method: 'POST', url: 'Patient' });

    const typeHist = await s.fetch('/Patient/_history?_count=2');
    expect(typeHist.body.entry).toHaveLength(2);
    const next = typeHist.body.link.find((l: any) => l.relation === 'next');
    expect(next).toBeDefined();
    const page2 = await s.fetch(next.url.replace(s.url, ''));
    expect(page2.status).toBe(200);
    expect(page2.body.entry.length).toBeGreaterThan(0);
    expect(page2.body.entry[0].fullUrl + page2.body.entry[0].resource.meta.versionId).not.toBe(
      typeHist.body.entry[1].fullUrl + typeHist.body.entry[1].resource.meta.versionId,
    );
    const sys = await s.fetch('/_history?_count=1');
    expect(sys.body.entry).toHaveLength(1);
  });

  test('update-as-create with a client id answers 201', async () => {
    const id = `client-${Date.now()}`;
    const res = await s.fetch(`/Patient/${id}`, { method: 'PUT', json: buildPatient({ id }) });
    expect(res.status).toBe(201);
    expect(res.body.id).toBe(id);
    expect(res.headers.get('location')).toBe(`${s.url}/Patient/${id}/_history/1`);
  });

  test('update with mismatched or missing id is 400 naming the element', async () => {
    const res = await s.fetch('/Patient/abc', { method: 'PUT', json: buildPatient({ id: 'xyz' }) });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['Patient.id']);
    const missing = await s.fetch('/Patient/abc', { method: 'PUT', json: buildPatient() });
    expect(missing.status).toBe(400);
  });

  test('delete keeps history and answers 410 afterwards; re-delete is harmless', async () => {
    const created = await s.fetch('/Observation', { method: 'POST', json: buildObservation() });
    const id = created.body.id;
    const del = await s.fetch(`/Observation/${id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    const read = await s.fetch(`/Observation/${id}`);
    expect(read.status).toBe(410);
    expect(read.body.resourceType).toBe('OperationOutcome');
    expect(read.body.issue[0].code).toBe('deleted');
    const hist = await s.fetch(`/Observation/${id}/_history`);
    expect(hist.body.entry).toHaveLength(2);
    expect(hist.body.entry[0].request.method).toBe('DELETE');
    expect(hist.body.entry[0].resource).toBeUndefined();
    expect((await s.fetch(`/Observation/${id}/_history/1`)).status).toBe(200);
    expect((await s.fetch(`/Observation/${id}/_history/2`)).status).toBe(410);
    expect((await s.fetch(`/Observation/${id}`, { method: 'DELETE' })).status).toBe(200);
    // Updating a deleted resource brings it back as the next version.
    const revived = await s.fetch(`/Observation/${id}`, { method: 'PUT', json: { ...buildObservation(), id } });
    expect(revived.status).toBe(201);
    expect(revived.body.meta.versionId).toBe('3');
  });
});

describe('optimistic locking', () => {
  test('If-Match with the current version succeeds, a stale one is 412', async () => {
    const created = await s.fetch('/Patient', { method: 'POST', json: buildPatient() });
    const id = created.body.id;
    const ok = await s.fetch(`/Patient/${id}`, { method: 'PUT', json: created.body, headers: { 'if-match': 'W/"1"' } });
    expect(ok.status).toBe(200);
    const stale = await s.fetch(`/Patient/${id}`, { method: 'PUT', json: created.body, headers: { 'if-match': 'W/"1"' } });
    expect(stale.status).toBe(412);
    expect(stale.body.resourceType).toBe('OperationOutcome');
    const bad = await s.fetch(`/Patient/${id}`, { method: 'PUT', json: created.body, headers: { 'if-match': 'banana' } });
    expect(bad.status).toBe(400);
    const staleDelete = await s.fetch(`/Patient/${id}`, { method: 'DELETE', headers: { 'if-match': 'W/"1"' } });
    expect(staleDelete.status).toBe(412);
  });

  test('two concurrent updates with the same If-Match: one 200, one 412', async () => {
    const created = await s.fetch('/Patient', { method: 'POST', json: buildPatient() });
    const id = created.body.id;
    for (let round = 1; round <= 5; round++) {
      const results = await Promise.all(
        ['male', 'female'].map((gender) =>
          s.fetch(`/Patient/${id}`, { method: 'PUT', json: { ...created.body, gender }, headers: { 'if-match': `W/"${round}"` } }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
    }
    expect((await s.fetch(`/Patient/${id}`)).body.meta.versionId).toBe('6');
  });
});

describe('errors as OperationOutcome', () => {
  test('malformed JSON is 400 with line and column', async () => {
    const res = await s.fetch('/Patient', { method: 'POST', body: '{\n  "resourceType": "Patient",\n  "active": tru\n}', headers: { 'content-type': 'application/fhir+json' } });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/line 3, column \d+/);
  });

  test('unknown type 404, unknown id 404, bad id 400', async () => {
    expect((await s.fetch('/Frobnicator/1')).status).toBe(404);
    const missing = await s.fetch('/Patient/does-not-exist');
    expect(missing.status).toBe(404);
    expect(missing.body.issue[0].code).toBe('not-found');
    expect((await s.fetch('/Patient/bad$id')).status).toBe(400);
    expect((await s.fetch('/nothing/here/at/all/really')).status).toBe(404);
  });

  test('wrong method is 405 with Allow', async () => {
    const res = await s.fetch('/Patient/123', { method: 'PATCH', json: [] });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('GET');
  });

  test('XML is 415 in Content-Type, Accept and _format', async () => {
    expect((await s.fetch('/Patient', { method: 'POST', body: '<Patient/>', headers: { 'content-type': 'application/fhir+xml' } })).status).toBe(415);
    expect((await s.fetch('/Patient/1', { headers: { accept: 'application/fhir+xml' } })).status).toBe(415);
    expect((await s.fetch('/Patient/1?_format=xml')).status).toBe(415);
    expect((await s.fetch('/Patient', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });

  test('a body over the limit is 413', async () => {
    const huge = buildPatient({ text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(70_000)}</div>` } });
    const res = await s.fetch('/Patient', { method: 'POST', json: huge });
    expect(res.status).toBe(413);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('wrong body shapes are 400, never 500', async () => {
    for (const body of ['[]', '"x"', '42', 'null', '{}', '{"resourceType":"Nope"}', '{"resourceType":"Observation"}']) {
      const res = await s.fetch('/Patient', { method: 'POST', body, headers: { 'content-type': 'application/fhir+json' } });
      expect([body, res.status]).toEqual([body, 400]);
    }
    const noBody = await s.fetch('/Patient', { method: 'POST', headers: { 'content-type': 'application/fhir+json' } });
    expect(noBody.status).toBe(400);
  });

  test('validation failures name the element', async () => {
    const res = await s.fetch('/Observation', { method: 'POST', json: { resourceType: 'Observation', code: { text: 'x' } } });
    expect(res.status).toBe(400);
    expect(res.body.issue.some((i: any) => i.expression?.includes('Observation.status'))).toBe(true);
    const badDate = await s.fetch('/Patient', { method: 'POST', json: buildPatient({ birthDate: '1980-13-45' }) });
    expect(badDate.status).toBe(400);
    expect(badDate.body.issue[0].expression).toEqual(['Patient.birthDate']);
    const unknown = await s.fetch('/Patient', { method: 'POST', json: buildPatient({ favouriteColour: 'blue' }) });
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].expression).toEqual(['Patient.favouriteColour']);
  });

  test('$validate returns the outcome without storing', async () => {
    const before = await s.fetch('/Observation/_history?_count=1000');
    const res = await s.fetch('/Observation/$validate', { method: 'POST', json: { resourceType: 'Observation', code: { text: 'x' } } });
    expect(res.status).toBe(200);
    expect(res.body.issue.some((i: any) => i.severity === 'error')).toBe(true);
    const good = await s.fetch('/$validate', { method: 'POST', json: buildObservation() });
    expect(good.body.issue.every((i: any) => i.severity !== 'error')).toBe(true);
    const after = await s.fetch('/Observation/_history?_count=1000');
    expect(after.body.entry.length).toBe(before.body.entry.length);
  });
});
