// Bad input of every kind is a clear 4xx OperationOutcome and stores nothing (issue 12, items 6, 7, 8, 11).
import { request } from 'node:http';
import { connect } from 'node:net';
import { buildObservation, buildPatient } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

/** How many Observations carry this note text (to prove a refused request stored nothing). */
async function countByMarker(type: string, marker: string): Promise<number> {
  const res = await s.fetch(`/${type}?_content=${encodeURIComponent(marker)}&_summary=count`);
  if (res.status === 200) return res.body.total;
  // _content may not be indexed: fall back to scanning the type's history.
  const all = await s.fetch(`/${type}/_history?_count=1000`);
  return (all.body.entry ?? []).filter((e: any) => JSON.stringify(e.resource ?? {}).includes(marker)).length;
}

function expectOutcome(res: { status: number; body: any }, status: number): void {
  expect(res.status).toBe(status);
  expect(res.body?.resourceType).toBe('OperationOutcome');
}

test('numbers outside PostgreSQL numeric range are 400 at validation, alone and in a transaction, storing nothing', async () => {
  for (const number of ['1e999999', '1e-999999', '1e131072', '-1e131072', '0.5e-16383', '0e-20000']) {
    const marker = `num-${Math.random().toString(36).slice(2)}`;
    const body = JSON.stringify(buildObservation({ note: [{ text: marker }], valueQuantity: { value: 0 } })).replace('"value":0', `"value":${number}`);
    const alone = await s.fetch('/Observation', { method: 'POST', json: body });
    expectOutcome(alone, 400);
    expect(alone.body.issue[0].expression).toEqual(['Observation.valueQuantity.value']);
    const entry = (resource: string) => `{"resource":${resource},"request":{"method":"POST","url":"Observation"}}`;
    const bundle = `{"resourceType":"Bundle","type":"transaction","entry":[${entry(JSON.stringify(buildObservation({ note: [{ text: marker }] })))},${entry(body)}]}`;
    const inTx = await s.fetch('/', { method: 'POST', json: bundle });
    expectOutcome(inTx, 400);
    expect(await countByMarker('Observation', marker)).toBe(0);
  }
  // The edges of the range are accepted and read back verbatim.
  for (const number of ['1e131071', '1e-16383', '123.45e131069']) {
    const body = JSON.stringify(buildObservation()).replace('"value":72', `"value":${number}`);
    const ok = await s.fetch('/Observation', { method: 'POST', json: body });
    expect(ok.status).toBe(201);
    expect(ok.text).toContain(`"value":${number}`);
  }
});

/** Sends raw bytes with the given Content-Type (fetch would re-encode a string). */
async function postBytes(path: string, bytes: Buffer, contentType: string): Promise<{ status: number; body: any }> {
  const res = await fetch(s.url + path, { method: 'POST', body: bytes, headers: { 'content-type': contentType, authorization: `Bearer ${s.tokens.hospital}` } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

test('invalid UTF-8, lone surrogates are 400; a declared charset is decoded as declared, never with U+FFFD', async () => {
  const marker = `utf-${Math.random().toString(36).slice(2)}`;
  const json = JSON.stringify(buildPatient({ name: [{ family: `${marker}-XX` }] }));
  // 0xC3 0x28 is not UTF-8.
  const invalid = Buffer.from(json.replace('XX', '\u0001'), 'utf8');
  invalid[invalid.indexOf(0x01)] = 0xc3;
  const broken = Buffer.concat([invalid.subarray(0, invalid.indexOf(0xc3) + 1), Buffer.from('('), invalid.subarray(invalid.indexOf(0xc3) + 1)]);
  expectOutcome(await postBytes('/Patient', broken, 'application/fhir+json'), 400);
  expectOutcome(await postBytes('/Patient', broken, 'application/fhir+json; charset=utf-8'), 400);
  // A lone surrogate, escaped in JSON, in a value and in a key.
  expectOutcome(await s.fetch('/Patient', { method: 'POST', json: json.replace('XX', '\\ud800') }), 400);
  expectOutcome(await s.fetch('/Patient', { method: 'POST', json: json.replace('XX', '\\udc00x') }), 400);
  expectOutcome(await s.fetch('/Patient', { method: 'POST', json: json.replace('"family"', '"fam\\ud800"') }), 400);
  // An escaped backslash before "ud800" is just text, and a proper pair is fine.
  expect((await s.fetch('/Patient', { method: 'POST', json: json.replace('XX', '\\\\ud800') })).status).toBe(201);
  expect((await s.fetch('/Patient', { method: 'POST', json: json.replace('XX', '\\ud83d\\ude00') })).status).toBe(201);
  // ISO-8859-1 bytes, declared: decoded as Latin-1 ("Müller"), not stored with U+FFFD.
  const latin1 = Buffer.from(json.replace('XX', 'M\u00fcller'), 'latin1');
  const created = await postBytes('/Patient', latin1, 'application/fhir+json; charset=iso-8859-1');
  expect(created.status).toBe(201);
  expect(created.body.name[0].family).toBe(`${marker}-M\u00fcller`);
  // An unknown charset is refused.
  expectOutcome(await postBytes('/Patient', latin1, 'application/fhir+json; charset=x-no-such-charset'), 415);
  const stored = await s.fetch(`/Patient?family=${marker}`);
  expect(stored.body.entry.map((e: any) => e.resource.name[0].family).sort()).toEqual([`${marker}-M\u00fcller`, `${marker}-\\ud800`, `${marker}-\u{1F600}`].sort());
  expect(stored.text).not.toContain('\ufffd');
});

test('ids made only of dots and references that climb paths are refused', async () => {
  for (const id of ['.', '..', '...']) {
    const enc = id.replace(/\./g, '%2e');
    const res = await s.fetch(`/Observation/${enc}`, { method: 'PUT', json: buildObservation({ id }) });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body?.resourceType).toBe('OperationOutcome');
  }
  const ok = await s.fetch('/Observation/a.b', { method: 'PUT', json: buildObservation({ id: 'a.b' }) });
  expect(ok.status).toBe(201);
  for (const reference of ['../Patient/x', 'Patient/../x', './Patient/x', 'Patient/./x', 'http://elsewhere.example/fhir/../Patient/x']) {
    const res = await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference } }) });
    expectOutcome(res, 400);
    expect(res.body.issue[0].expression).toEqual(['Observation.subject.reference']);
  }
  const bundle = await s.fetch('/', {
    method: 'POST',
    json: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: buildObservation({ subject: { reference: '../Patient/x' } }), request: { method: 'POST', url: 'Observation' } }] },
  });
  expectOutcome(bundle, 400);
  const history = await s.fetch('/Observation/_history?_count=1000');
  expect(history.text).not.toContain('../Patient/x');
  // fetch resolves %2e%2e as '..' (WHATWG URL); a raw request reaches the server as sent.
  const read = await rawGet('/Observation/%2e%2e', { authorization: `Bearer ${s.tokens.hospital}` });
  expect(read.status).toBeGreaterThanOrEqual(400);
  expect(read.status).toBeLessThan(500);
});

/** A raw HTTP/1.1 request (fetch refuses some of what we must send). */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; contentType?: string; body: string }> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a 100 KB URL, an oversized header and a malformed request line answer with an OperationOutcome', async () => {
  const long = await rawGet(`/Patient?name=${'a'.repeat(100 * 1024)}`, { authorization: `Bearer ${s.tokens.hospital}` });
  expect(long.status).toBe(431);
  expect(long.contentType).toMatch(/application\/fhir\+json/);
  expect(JSON.parse(long.body).resourceType).toBe('OperationOutcome');
  const header = await rawGet('/metadata', { 'x-filler': 'b'.repeat(64 * 1024) });
  expect(header.status).toBe(431);
  expect(JSON.parse(header.body).resourceType).toBe('OperationOutcome');
  // A request line that is not HTTP.
  const url = new URL(s.url);
  const garbage = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write('NONSENSE\r\n\r\n'));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (text += d));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
  expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4)).resourceType).toBe('OperationOutcome');
  // A malformed percent-escape in the path.
  const bad = await s.fetch('/Patient/%E0%A4%A');
  expect(bad.status).toBe(400);
  expect(bad.body.issue[0].diagnostics).toMatch(/malformed percent-escape/);
  expect((await s.fetch('/metadata', { anonymous: true })).status).toBe(200);
});
