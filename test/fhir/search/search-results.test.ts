/**
 * Searchset Bundles: paging, sorting, _total, _summary, _elements, _include,
 * _revinclude, system and compartment search (https://hl7.org/fhir/R4/search.html).
 */
import { buildRequest, openFixture, type Bundle, type SearchFixture } from './fixture';

let f: SearchFixture;

function cursorOf(b: Bundle, rel: string): string | undefined {
  const url = b.link.find((l) => l.relation === rel)?.url;
  return url ? (new URL(url).searchParams.get('_cursor') ?? undefined) : undefined;
}
function matchIds(b: Bundle): string[] {
  return (b.entry ?? []).filter((e) => e.search.mode === 'match').map((e) => e.resource.id);
}

beforeAll(async () => {
  f = await openFixture('postgres');
  for (let i = 0; i < 25; i++) {
    const id = `p${String(i).padStart(2, '0')}`;
    await f.put({ resourceType: 'Patient', id, gender: i % 2 ? 'male' : 'female', birthDate: `19${50 + (i % 7)}-01-01`, name: [{ family: `Fam${i % 5}`, given: ['X'] }], text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' } });
  }
  await f.put({ resourceType: 'Organization', id: 'org', name: 'Org' });
  await f.put({ resourceType: 'Patient', id: 'pa', managingOrganization: { reference: 'Organization/org' }, gender: 'other' });
  await f.put({ resourceType: 'Encounter', id: 'e1', status: 'finished', subject: { reference: 'Patient/pa' } });
  await f.put({ resourceType: 'Observation', id: 'oa', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/pa' }, encounter: { reference: 'Encounter/e1' } });
  await f.put({ resourceType: 'Condition', id: 'ca', subject: { reference: 'Patient/pa' } });
  await f.put({ resourceType: 'MedicationRequest', id: 'ma', status: 'active', intent: 'order', subject: { reference: 'Patient/pa' } });
}, 180_000);

afterAll(async () => {
  await f?.close();
});

test('Bundle shape: searchset, total, fullUrl, self link', async () => {
  const b = await f.search('Patient', 'gender=other');
  expect(b).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
  expect(b.entry?.[0]).toMatchObject({ fullUrl: 'http://fhir.test/r4/Patient/pa', search: { mode: 'match' }, resource: { resourceType: 'Patient', id: 'pa' } });
  expect(b.link[0].relation).toBe('self');
  expect(b.link[0].url).toBe('http://fhir.test/r4/Patient?gender=other&_count=20');
});

test('_count defaults to 20 and is clamped to 1000 with a note', async () => {
  expect(matchIds(await f.search('Patient', 'gender=male,female')).length).toBe(20);
  const b = await f.search('Patient', '_count=5000');
  expect(b.entry?.filter((e) => e.search.mode === 'outcome')[0].resource.issue[0].diagnostics).toMatch(/1000/);
});

test('keyset paging is stable while resources are inserted between pages, next and previous links', async () => {
  const seen: string[] = [];
  let b = await f.search('Patient', '_count=7&_sort=_id&gender=male,female');
  expect(b.total).toBe(25);
  seen.push(...matchIds(b));
  const firstPage = matchIds(b);
  // An insert that sorts before the current position and one after it.
  await f.put({ resourceType: 'Patient', id: 'p00a', gender: 'male' });
  await f.put({ resourceType: 'Patient', id: 'p99', gender: 'male' });
  let cursor = cursorOf(b, 'next');
  let second: Bundle | undefined;
  while (cursor) {
    b = await f.search('Patient', [['_count', '7'], ['_sort', '_id'], ['gender', 'male,female'], ['_cursor', cursor]]);
    second ??= b;
    seen.push(...matchIds(b));
    cursor = cursorOf(b, 'next');
  }
  const expected = Array.from({ length: 25 }, (_, i) => `p${String(i).padStart(2, '0')}`).concat('p99');
  expect(seen).toEqual(expected);
  const prev = cursorOf(second!, 'previous');
  const back = await f.search('Patient', [['_count', '7'], ['_sort', '_id'], ['gender', 'male,female'], ['_cursor', prev!]]);
  expect(matchIds(back)).toEqual(['p00a', ...firstPage.slice(1)].sort().slice(-7));
  await f.remove('Patient', 'p00a');
  await f.remove('Patient', 'p99');
});

test('multi-key _sort with descending keys pages through every row exactly once', async () => {
  const all: string[] = [];
  let b = await f.search('Patient', '_count=4&_sort=-birthdate,family,-_id&gender=male,female');
  all.push(...matchIds(b));
  let cursor = cursorOf(b, 'next');
  while (cursor) {
    b = await f.search('Patient', [['_count', '4'], ['_sort', '-birthdate,family,-_id'], ['gender', 'male,female'], ['_cursor', cursor]]);
    all.push(...matchIds(b));
    cursor = cursorOf(b, 'next');
  }
  const rows = Array.from({ length: 25 }, (_, i) => ({ id: `p${String(i).padStart(2, '0')}`, year: 50 + (i % 7), fam: `fam${i % 5}` }));
  rows.sort((a, b2) => b2.year - a.year || a.fam.localeCompare(b2.fam) || b2.id.localeCompare(a.id));
  expect(all).toEqual(rows.map((r) => r.id));
});

test('sort keys missing on some resources sort last', async () => {
  const b = await f.search('Patient', '_sort=birthdate&_count=100');
  expect(matchIds(b).at(-1)).toBe('pa');
});

test('_total=accurate equals the true count; none omits it; estimate is a number', async () => {
  const all = await f.search('Patient', '_count=1000');
  expect((await f.search('Patient', '_total=accurate&_count=1')).total).toBe(matchIds(all).length);
  expect((await f.search('Patient', '_total=none')).total).toBeUndefined();
  expect(typeof (await f.search('Patient', '_total=estimate')).total).toBe('number');
});

test('_summary=count and _summary=true, _elements', async () => {
  const c = await f.search('Patient', '_summary=count&gender=female');
  expect(c.total).toBe(13);
  expect(c.entry).toBeUndefined();
  const s = await f.search('Patient', '_summary=true&_id=p01');
  const r = s.entry![0].resource;
  expect(r.text).toBeUndefined();
  expect(r.gender).toBe('male');
  expect(r.meta.tag).toContainEqual(expect.objectContaining({ code: 'SUBSETTED' }));
  const e = await f.search('Patient', '_elements=gender&_id=p01');
  expect(Object.keys(e.entry![0].resource).sort()).toEqual(['gender', 'id', 'meta', 'resourceType']);
});

test('_include and _revinclude, with :iterate', async () => {
  const b = await f.search('Observation', '_id=oa&_include=Observation:patient&_include=Observation:encounter');
  expect(b.entry!.map((e) => [e.resource.resourceType, e.resource.id, e.search.mode])).toEqual([
    ['Observation', 'oa', 'match'],
    ['Patient', 'pa', 'include'],
    ['Encounter', 'e1', 'include'],
  ]);
  const r = await f.search('Patient', '_id=pa&_revinclude=Condition:subject&_revinclude=MedicationRequest:patient');
  expect(r.entry!.map((e) => `${e.resource.resourceType}/${e.resource.id}:${e.search.mode}`).sort()).toEqual([
    'Condition/ca:include',
    'MedicationRequest/ma:include',
    'Patient/pa:match',
  ]);
  const it = await f.search('Observation', '_id=oa&_include=Observation:patient&_include:iterate=Patient:organization');
  expect(it.entry!.map((e) => e.resource.id)).toEqual(['oa', 'pa', 'org']);
  const noIt = await f.search('Observation', '_id=oa&_include=Observation:patient&_include=Patient:organization');
  expect(noIt.entry!.map((e) => e.resource.id)).toEqual(['oa', 'pa']);
});

test('system search with _type', async () => {
  const res = await f.engine.searchSystem(buildRequest('_type=Condition,MedicationRequest&patient=Patient/pa'));
  const b = res.body as Bundle;
  expect(b.entry!.map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort()).toEqual(['Condition/ca', 'MedicationRequest/ma']);
  expect(b.link[0].url).toContain('_type=Condition%2CMedicationRequest');
  const byId = (await f.engine.searchSystem(buildRequest('_id=ca,e1'))).body as Bundle;
  expect(byId.total).toBe(2);
});

test('Patient compartment search', async () => {
  const res = await f.engine.searchCompartment(buildRequest(''), 'Patient', 'pa', 'Observation');
  expect(((res.body as Bundle).entry ?? []).map((e) => e.resource.id)).toEqual(['oa']);
  const enc = await f.engine.searchCompartment(buildRequest('status=finished'), 'Patient', 'pa', 'Encounter');
  expect((enc.body as Bundle).total).toBe(1);
  const other = await f.engine.searchCompartment(buildRequest(''), 'Patient', 'p01', 'Observation');
  expect((other.body as Bundle).total).toBe(0);
});

test('findIds is strict', async () => {
  expect(await f.engine.findIds(f.handle.db, 'Patient', new URLSearchParams('gender=other'), 2)).toEqual(['pa']);
  await expect(f.engine.findIds(f.handle.db, 'Patient', new URLSearchParams('nope=1'), 2)).rejects.toMatchObject({ status: 400 });
  await expect(f.engine.findIds(f.handle.db, 'Patient', new URLSearchParams('birthdate=xx'), 2)).rejects.toMatchObject({ status: 400 });
});
