// _include/_revinclude for a patient token are confined inside the SQL: other patients' rows are never fetched.
import { ANY_RESOURCE, findIncluded, findRevIncluded, type Filter } from '../../src/repository/search-query';
import { patientCompartmentPairs } from '../../src/store/search/definitions';
import { buildObservation, buildPatient } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
}, 180_000);
afterAll(async () => {
  await s?.close();
});

test('findIncluded and findRevIncluded return only the confined patient and its compartment', async () => {
  const a = (await s.fetch('/Patient', { method: 'POST', json: buildPatient() })).body.id;
  const b = (await s.fetch('/Patient', { method: 'POST', json: buildPatient() })).body.id;
  const obsA = (await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference: `Patient/${a}` } }) })).body.id;
  // B's observation points at A's as a member: an include from A's side must not bring B's in.
  const obsB = (await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference: `Patient/${b}` }, hasMember: [{ reference: `Observation/${obsA}` }] }) })).body.id;
  const db = s.running.db;
  const confinement: Filter = { kind: 'patientCompartment', patientId: a, pairs: patientCompartmentPairs() };
  const ids = (rows: { resource_type: string; id: string }[]) => rows.map((r) => `${r.resource_type}/${r.id}`).sort();

  expect(ids(await findIncluded(db, 'Observation', [obsA, obsB], 'subject', undefined, 100, ANY_RESOURCE))).toEqual([`Patient/${a}`, `Patient/${b}`].sort());
  expect(ids(await findIncluded(db, 'Observation', [obsA, obsB], 'subject', undefined, 100, confinement))).toEqual([`Patient/${a}`]);
  expect(ids(await findRevIncluded(db, 'Observation', 'has-member', 'Observation', [obsA], 100, ANY_RESOURCE))).toEqual([`Observation/${obsB}`]);
  expect(ids(await findRevIncluded(db, 'Observation', 'has-member', 'Observation', [obsA], 100, confinement))).toEqual([]);
  expect(ids(await findRevIncluded(db, 'Observation', 'subject', 'Patient', [a, b], 100, confinement))).toEqual([`Observation/${obsA}`]);
});
