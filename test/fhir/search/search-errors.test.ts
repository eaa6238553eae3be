/**
 * Unknown and malformed parameters: strict → 400 naming the parameter,
 * lenient → ignored and reported in an outcome entry; never a 500.
 */
import { FhirError } from '../../../src/errors/fhir-error';
import { buildRequest, openFixture, type Bundle, type SearchFixture } from './fixture';

let f: SearchFixture;
const STRICT = { prefer: 'handling=strict' };

beforeAll(async () => {
  f = await openFixture('postgres');
  await f.put({ resourceType: 'Patient', id: 'p1', name: [{ family: "O'Brien" }], birthDate: '1980-01-01' });
  await f.put({ resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' }, valueQuantity: { value: 1 } });
}, 180_000);

afterAll(async () => {
  await f?.close();
});

async function outcome(type: string, query: string | [string, string][], headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  try {
    const res = await f.engine.searchType(buildRequest(query, headers), type);
    return { status: res.status, body: res.body };
  } catch (err) {
    if (err instanceof FhirError) return { status: err.status, body: err.issues };
    throw err;
  }
}

test('strict: unknown parameter → 400 naming it', async () => {
  const r = await outcome('Patient', 'foo=bar&name=x', STRICT);
  expect(r.status).toBe(400);
  expect(r.body).toEqual([expect.objectContaining({ severity: 'error', code: 'not-supported', expression: ['foo'], nhisCode: 'NHIS-1300' })]);
});

test('strict: malformed values, modifiers, _sort → 400 with each parameter', async () => {
  const r = await outcome('Patient', 'birthdate=1980-13-01&name:regex=x&_sort=nope', STRICT);
  expect(r.status).toBe(400);
  expect(r.body.map((i: { expression: string[] }) => i.expression[0])).toEqual(['birthdate', 'name:regex', '_sort']);
});

test('lenient: unknown parameters are ignored and reported in an outcome entry', async () => {
  const r = await outcome('Patient', 'foo=bar&name=o');
  expect(r.status).toBe(200);
  const b = r.body as Bundle;
  expect(b.entry!.map((e) => e.search.mode)).toEqual(['match', 'outcome']);
  expect(b.entry![1].resource).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'warning', expression: ['foo'] }] });
  expect(b.link[0].url).not.toContain('foo');
});

test('unknown resource type → 404', async () => {
  expect((await outcome('Nope', 'a=b')).status).toBe(404);
});

const FUZZ: string[] = [
  "name='; drop table resource; --",
  'name=%27%22%5C%00',
  'name=\u0000',
  `name=${'a'.repeat(5000)}`,
  `name=${'é'.repeat(3000)}`,
  'name=😀𝒳\uD800',
  'birthdate=2020-02-30',
  'birthdate=99999',
  'birthdate=zz2020',
  'birthdate=ge',
  'birthdate=0000-01-01',
  'birthdate=9999-12-31T23:59:59.999999999+14:00',
  'birthdate=2020-01-01T25:00',
  '_lastUpdated=gt1e99',
  'identifier=a|b|c|d',
  'identifier=|',
  'identifier=',
  'identifier=,,,',
  'gender:not=',
  'gender:missing=maybe',
  'gender:foo:bar=x',
  '_id=1&_id=%FF',
  'organization=Patient/../../etc',
  'organization=Organization/',
  'organization=http://x/Organization/a b',
  'organization:Nope=1',
  'organization.name.foo=1',
  'general-practitioner:Practitioner.organization.partof.partof.partof.name=x',
  '_has:Observation=1',
  '_has:Nope:patient:code=1',
  '_has:Observation:nope:code=1',
  '_has:Observation:patient:nope=1',
  '_sort=-',
  '_sort=,',
  '_sort=name,name,name,name,name,name',
  '_count=-1',
  '_count=1e3',
  '_count=99999999999999999999',
  '_total=maybe',
  '_summary=maybe',
  '_elements=a b',
  '_include=Patient',
  '_include=Patient:nope',
  '_include=Nope:patient',
  '_revinclude=Observation:patient:Nope',
  '_cursor=!!!',
  '_cursor=eyJhIjoxfQ',
  '_cursor=' + Buffer.from(JSON.stringify({ s: '', v: [], t: 'Patient', i: "x' or 1=1" })).toString('base64url'),
  '_sort=birthdate&_cursor=' + Buffer.from(JSON.stringify({ s: 'birthdate', v: ['not a date'], t: 'Patient', i: 'x' })).toString('base64url'),
  '_sort=birthdate&_cursor=' + Buffer.from(JSON.stringify({ s: 'birthdate', v: ['99999-01-01 00:00:00+00'], t: 'Patient', i: 'x' })).toString('base64url'),
  'address-postalcode:exact=%25',
  'death-date=ap2020',
  'name:contains=%5C',
];

const OBS_FUZZ = [
  'value-quantity=1e400',
  'value-quantity=1e-400',
  'value-quantity=ap0',
  'value-quantity=gt1|',
  'value-quantity=NaN',
  'value-quantity=Infinity',
  `value-quantity=${'9'.repeat(70)}`,
  'value-quantity=1.0000000000000000000000000000000000000000001',
  'code-value-quantity=a$b$c',
  'code-value-quantity=a|b$zz',
  'code-value-quantity=$',
  'combo-code-value-quantity=x$gt1,y$lt2',
  'subject=Patient/p1/_history/1',
  'subject=urn:uuid:1234',
];

test.each([...FUZZ.map((q) => ['Patient', q]), ...OBS_FUZZ.map((q) => ['Observation', q])])('%s?%s never answers 500', async (type, q) => {
  for (const headers of [{}, STRICT]) {
    const r = await outcome(type, q, headers);
    expect([200, 400]).toContain(r.status);
  }
});

test('injection attempts match nothing and the table survives', async () => {
  expect(await f.ids('Patient', "name='; drop table resource; --")).toEqual([]);
  expect(await f.ids('Patient', "name=o'b")).toEqual(['p1']);
  expect(await f.ids('Patient', '_id=p1')).toEqual(['p1']);
});

test('a cursor for another sort is refused', async () => {
  const b = await f.search('Patient', '_count=1&_sort=_id&_id=p1,p2');
  expect(b.link.find((l) => l.relation === 'next')).toBeUndefined();
  const bad = Buffer.from(JSON.stringify({ s: '-id', v: [null], t: 'Patient', i: 'p1' })).toString('base64url');
  const r = await outcome('Patient', `_sort=_id&_cursor=${bad}`);
  expect(r).toMatchObject({ status: 400, body: [{ expression: ['_cursor'] }] });
});
