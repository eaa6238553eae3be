/** A representative subset of the search suite against the embedded PGlite. */
import { openFixture, type Bundle, type SearchFixture } from './fixture';

let f: SearchFixture;

beforeAll(async () => {
  f = await openFixture('pglite');
  await f.put({ resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1970-03-15', name: [{ family: 'Müller', given: ['Zoë'] }], identifier: [{ system: 'urn:nid', value: '1' }] });
  await f.put({ resourceType: 'Patient', id: 'p2', gender: 'male', birthDate: '1970', name: [{ family: 'Muller' }] });
  await f.put({ resourceType: 'Patient', id: 'p3', gender: 'male', birthDate: '1990-01-01', name: [{ family: 'Smith' }] });
  await f.put({ resourceType: 'Observation', id: 'o1', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, subject: { reference: 'Patient/p1' }, effectiveDateTime: '2023-05-10T10:30:00+02:00', valueQuantity: { value: 120, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } });
  await f.put({ resourceType: 'Observation', id: 'o2', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, subject: { reference: 'Patient/p2' }, effectiveDateTime: '2023-05-11', valueQuantity: { value: 90, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } });
  await f.put({ resourceType: 'MedicationRequest', id: 'm1', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' } });
}, 180_000);

afterAll(async () => {
  await f?.close();
});

test('string folding, token, date precision and time zone', async () => {
  expect(await f.ids('Patient', 'family=MULLER')).toEqual(['p1', 'p2']);
  expect(await f.ids('Patient', 'given=zoe')).toEqual(['p1']);
  expect(await f.ids('Patient', 'identifier=urn:nid|1')).toEqual(['p1']);
  expect(await f.ids('Patient', 'birthdate=1970')).toEqual(['p1', 'p2']);
  expect(await f.ids('Observation', 'date=2023-05-10T08:30:00Z')).toEqual(['o1']);
});

test('quantity, composite, chain, reverse chain', async () => {
  expect(await f.ids('Observation', 'value-quantity=gt100')).toEqual(['o1']);
  expect(await f.ids('Observation', 'code-value-quantity=http://loinc.org|8480-6$lt100')).toEqual(['o2']);
  expect(await f.ids('Observation', 'patient.given=zo')).toEqual(['o1']);
  expect(await f.ids('Patient', '_has:MedicationRequest:patient:status=active')).toEqual(['p1']);
});

test('paging with a cursor, _include, _total', async () => {
  const first = await f.search('Patient', '_count=2&_sort=-birthdate');
  expect(first.total).toBe(3);
  const next = new URL(first.link.find((l) => l.relation === 'next')!.url).searchParams.get('_cursor')!;
  const second = await f.search('Patient', [['_count', '2'], ['_sort', '-birthdate'], ['_cursor', next]]);
  expect([...(first.entry ?? []), ...(second.entry ?? [])].map((e) => e.resource.id)).toEqual(['p3', 'p2', 'p1']); // descending date sorts by the end of each range
  const inc: Bundle = await f.search('Observation', '_id=o1&_include=Observation:patient');
  expect(inc.entry!.map((e) => e.resource.id)).toEqual(['o1', 'p1']);
});

test('deleted resources never match', async () => {
  await f.put({ resourceType: 'Patient', id: 'p4', name: [{ family: 'Gone' }] });
  expect(await f.ids('Patient', 'family=gone')).toEqual(['p4']);
  await f.remove('Patient', 'p4');
  expect(await f.ids('Patient', 'family=gone')).toEqual([]);
  expect(await f.ids('Patient', '_id=p4')).toEqual([]);
});
