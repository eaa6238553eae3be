// Patient/$match over HTTP: https://hl7.org/fhir/R4/patient-operation-match.html (IHE PDQm ITI-119).
import { generateEgn } from '../../../src/domain/identity/egn-generator';
import { startTestServer, TestServer } from '../../support/server';

const EGN = 'http://opennhis.org/fhir/sid/bg-egn';
const GRADE = 'http://hl7.org/fhir/StructureDefinition/match-grade';
let s: TestServer;
const ids: Record<string, string> = {};

function patient(family: string, given: string, birthDate: string, gender: 'male' | 'female', extra: Record<string, unknown> = {}) {
  return { resourceType: 'Patient', name: [{ family, given: [given] }], birthDate, gender, ...extra };
}

async function create(key: string, resource: Record<string, unknown>): Promise<void> {
  const res = await s.fetch('/Patient', { method: 'POST', json: resource });
  expect(res.status).toBe(201);
  ids[key] = res.body.id;
}

function match(resource: Record<string, unknown>, extra: Record<string, unknown>[] = []) {
  return s.fetch('/Patient/$match', { method: 'POST', json: { resourceType: 'Parameters', parameter: [{ name: 'resource', resource }, ...extra] } });
}

function ranked(body: any): { id: string; score: number; grade: string }[] {
  return body.entry.map((e: any) => ({
    id: e.resource.id,
    score: e.search.score,
    grade: e.search.extension.find((x: any) => x.url === GRADE).valueCode,
  }));
}

beforeAll(async () => {
  s = await startTestServer();
  await create('maria', patient('Иванова', 'Мария', '1980-04-12', 'female', {
    identifier: [{ system: EGN, value: generateEgn('1980-04-12', 'female', 1) }],
    address: [{ line: ['ul. Vitosha 1'], city: 'София', postalCode: '1000' }],
  }));
  await create('mariaLatin', patient('Ivanova', 'Mariya', '1980-04-12', 'female', { identifier: [{ system: EGN, value: generateEgn('1980-04-12', 'female', 2) }] }));
  await create('petar', patient('Petrov', 'Petar', '1975-09-30', 'male'));
  await create('elena', patient('Georgieva', 'Elena', '1980-04-12', 'female'));
  await create('merged', patient('Ivanova', 'Maria', '1980-04-12', 'female', { active: false }));
}, 180_000);
afterAll(async () => {
  await s.close();
});

test('a national id is a certain match and ranks first; a look-alike with another EGN is certainly-not', async () => {
  const res = await match(patient('Ivanova', 'Maria', '1980-04-12', 'female', { identifier: [{ system: EGN, value: generateEgn('1980-04-12', 'female', 1) }] }));
  expect(res.status).toBe(200);
  expect(res.body.resourceType).toBe('Bundle');
  expect(res.body.type).toBe('searchset');
  const r = ranked(res.body);
  expect(r[0]).toEqual({ id: ids.maria, score: 1, grade: 'certain' });
  expect(r.find((x) => x.id === ids.mariaLatin)?.grade).toBe('certainly-not');
  expect(r.map((x) => x.id)).not.toContain(ids.elena);
  expect(r.map((x) => x.id)).not.toContain(ids.merged); // inactive records are never offered
  expect(res.body.entry[0].search.mode).toBe('match');
});

test('accents, Cyrillic and case do not matter; a typo in the name still matches as probable', async () => {
  const accented = ranked((await match(patient('IVÁNOVA', 'María', '1980-04-12', 'female'))).body);
  expect(accented.slice(0, 2).map((x) => x.id).sort()).toEqual([ids.maria, ids.mariaLatin].sort());
  expect(accented[0].grade).toBe('probable');
  const typo = ranked((await match(patient('Petorv', 'Petar', '1975-09-30', 'male'))).body);
  expect(typo[0]).toMatchObject({ id: ids.petar, grade: 'probable' });
  // A typo in the birth day (found through name + birth year) is still offered.
  const dayTypo = ranked((await match(patient('Petrov', 'Petar', '1975-09-03', 'male'))).body);
  expect(dayTypo[0].id).toBe(ids.petar);
  expect(dayTypo[0].score).toBeLessThan(typo[0].score);
});

test('swapped given and family names rank below the exact spelling but are found', async () => {
  const exact = ranked((await match(patient('Petrov', 'Petar', '1975-09-30', 'male'))).body);
  const swapped = ranked((await match(patient('Petar', 'Petrov', '1975-09-30', 'male'))).body);
  expect(swapped[0].id).toBe(ids.petar);
  expect(swapped[0].grade).toBe('probable');
  expect(swapped[0].score).toBeLessThan(exact[0].score);
});

test('onlyCertainMatches returns only a single certain match; count limits the result', async () => {
  const egn = { identifier: [{ system: EGN, value: generateEgn('1980-04-12', 'female', 1) }] };
  const only = await match(patient('Ivanova', 'Maria', '1980-04-12', 'female', egn), [{ name: 'onlyCertainMatches', valueBoolean: true }]);
  expect(ranked(only.body)).toEqual([{ id: ids.maria, score: 1, grade: 'certain' }]);
  const none = await match(patient('Ivanova', 'Maria', '1980-04-12', 'female'), [{ name: 'onlyCertainMatches', valueBoolean: true }]);
  expect(none.body.entry).toEqual([]);
  const one = await match(patient('Ivanova', 'Maria', '1980-04-12', 'female'), [{ name: 'count', valueInteger: 1 }]);
  expect(one.body.entry).toHaveLength(1);
});

test('bad input names the element: invalid EGN, missing resource, wrong parameter type', async () => {
  const bad = await match(patient('Ivanova', 'Maria', '1980-04-12', 'female', { identifier: [{ system: EGN, value: '8004121234' }] }));
  expect(bad.status).toBe(400);
  expect(bad.body.issue[0].expression).toEqual(['Parameters.parameter[0].resource.identifier[0].value']);
  const missing = await s.fetch('/Patient/$match', { method: 'POST', json: { resourceType: 'Parameters', parameter: [] } });
  expect(missing.status).toBe(400);
  const wrongType = await match(patient('Ivanova', 'Maria', '1980-04-12', 'female'), [{ name: 'count', valueString: 'x' }]);
  expect(wrongType.status).toBe(400);
  expect(wrongType.body.issue[0].expression).toEqual(['Parameters.parameter[1].valueInteger']);
});
