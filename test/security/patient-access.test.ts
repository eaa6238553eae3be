// A citizen's token over HTTP: every path to another patient's data answers as if it did not exist,
// each attempt is audited, and the patient's audit trail shows who accessed their record.
import { buildObservation, BG_EGN_SYSTEM, validEgn } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';
import { buildKeyPair, CITIZEN_IDP as IDP, createCitizenIdp, mintPatientToken } from '../support/tokens';

let s: TestServer;
let idp: Awaited<ReturnType<typeof createCitizenIdp>>;
let A: { id: string; egn: string; obs: string };
let B: { id: string; egn: string; obs: string; encounter: string };
let tokenA: string;
let pharmacyToken: string;

const asA = () => ({ authorization: `Bearer ${tokenA}` });
const ids = (bundle: any): string[] => (bundle.entry ?? []).filter((e: any) => e.search?.mode !== 'outcome').map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);

async function createPatient(): Promise<{ id: string; egn: string }> {
  const egn = validEgn();
  const res = await s.fetch('/Patient', { method: 'POST', json: { resourceType: 'Patient', identifier: [{ system: BG_EGN_SYSTEM, value: egn }], name: [{ family: 'Dimitrova' }], gender: 'female', birthDate: '1975-05-05' } });
  expect(res.status).toBe(201);
  return { id: res.body.id, egn };
}

beforeAll(async () => {
  idp = await createCitizenIdp();
  s = await startTestServer({ env: idp.env });
  const a = await createPatient();
  const b = await createPatient();
  const obsA = await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference: `Patient/${a.id}` } }) });
  const obsB = await s.fetch('/Observation', { method: 'POST', json: buildObservation({ subject: { reference: `Patient/${b.id}` }, hasMember: [{ reference: `Observation/${obsA.body.id}` }] }) });
  const enc = await s.fetch('/Encounter', { method: 'POST', json: { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${b.id}` } } });
  A = { ...a, obs: obsA.body.id };
  B = { ...b, obs: obsB.body.id, encounter: enc.body.id };
  // B's observation was corrected once, so it has history.
  const updated = await s.fetch(`/Observation/${B.obs}`, { method: 'PUT', json: { ...obsB.body, status: 'amended' } });
  expect(updated.status).toBe(200);
  tokenA = await idp.mint(A.egn);
  pharmacyToken = await s.clientToken({ role: 'pharmacy', organization: 'PH777' });
}, 180_000);
afterAll(async () => {
  await s?.close();
  idp?.remove();
});

test('own data is readable', async () => {
  expect((await s.fetch(`/Patient/${A.id}`, { headers: asA() })).status).toBe(200);
  expect((await s.fetch(`/Observation/${A.obs}`, { headers: asA() })).status).toBe(200);
  expect(ids((await s.fetch('/Observation', { headers: asA() })).body)).toEqual([`Observation/${A.obs}`]);
});

test("another patient's data answers 404, identical to a resource that does not exist", async () => {
  const paths = (id: string, obs: string) => [
    `/Patient/${id}`,
    `/Observation/${obs}`,
    `/Observation/${obs}/_history/1`,
    `/Observation/${obs}/_history`,
    `/Patient/${id}/Observation`,
    `/Patient/${id}/_history`,
  ];
  const existing = paths(B.id, B.obs);
  const missing = paths('00000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-000000000001');
  for (let i = 0; i < existing.length; i++) {
    const a = await s.fetch(existing[i], { headers: asA() });
    const b = await s.fetch(missing[i], { headers: asA() });
    expect([existing[i], a.status]).toEqual([existing[i], 404]);
    expect(b.status).toBe(404);
    // Same code and wording apart from the ids themselves: no existence oracle.
    const shape = (body: any, id: string, other: string) => JSON.stringify(body.issue).replaceAll(id, 'X').replaceAll(other, 'Y');
    expect(shape(a.body, B.id, B.obs)).toBe(shape(b.body, '00000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-000000000001'));
  }
});

test('searches never return another patient: explicit subject, chains, _include, _revinclude, system search, _history', async () => {
  const queries = [
    `/Observation?subject=Patient/${B.id}`,
    `/Observation?subject:Patient.identifier=${encodeURIComponent(`${BG_EGN_SYSTEM}|${B.egn}`)}`,
    `/Observation?_id=${B.obs}`,
    `/Encounter`,
    `/Observation?_include=Observation:subject&_include=Observation:has-member`,
    `/Observation?_revinclude=Observation:has-member`,
    `/Patient?_revinclude=Observation:subject&_revinclude=Encounter:subject`,
    `/Patient?identifier=${encodeURIComponent(`${BG_EGN_SYSTEM}|${B.egn}`)}`,
    `/?_type=Observation,Encounter,Patient`,
    `/Observation/_history`,
  ];
  for (const q of queries) {
    const res = await s.fetch(q, { headers: asA() });
    expect([q, res.status < 500]).toEqual([q, true]);
    const seen = res.status === 200 ? ids(res.body) : [];
    const foreign = seen.filter((r) => r.includes(B.id) || r.includes(B.obs) || r.includes(B.encounter));
    expect([q, foreign]).toEqual([q, []]);
  }
  // _history of the whole server is not the patient's to read.
  expect((await s.fetch('/_history', { headers: asA() })).status).toBeGreaterThanOrEqual(400);
});

test('$everything: the whole own record, and 404 for another patient as for no patient', async () => {
  const own = await s.fetch(`/Patient/${A.id}/$everything`, { headers: asA() });
  expect(own.status).toBe(200);
  expect(ids(own.body).sort()).toEqual([`Observation/${A.obs}`, `Patient/${A.id}`].sort());
  expect((await s.fetch(`/Patient/${B.id}/$everything`, { headers: asA() })).status).toBe(404);
  expect((await s.fetch('/Patient/00000000-0000-4000-8000-000000000000/$everything', { headers: asA() })).status).toBe(404);
});

test('writes and transactions are refused, nothing is stored', async () => {
  const post = await s.fetch('/Observation', { method: 'POST', headers: asA(), json: buildObservation({ subject: { reference: `Patient/${A.id}` } }) });
  expect(post.status).toBe(403);
  const txn = await s.fetch('/', {
    method: 'POST',
    headers: asA(),
    json: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'GET', url: `Observation/${B.obs}` } }, { request: { method: 'DELETE', url: `Observation/${B.obs}` } }] },
  });
  expect(txn.status).toBe(403);
  expect((await s.fetch(`/Observation/${B.obs}`)).status).toBe(200);
  const batch = await s.fetch('/', { method: 'POST', headers: asA(), json: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Observation/${B.obs}` } }] } });
  // A read-only batch is allowed, entry by entry, but another patient's entry is a 404 inside it.
  if (batch.status === 200) expect(batch.body.entry[0].response.status).toMatch(/^404/);
  else expect(batch.status).toBe(403);
});

test('forged and foreign patient tokens are 401', async () => {
  const other = await buildKeyPair('ES384');
  const foreign = await mintPatientToken({ privateJwk: other.privateJwk, ...IDP }, A.egn);
  expect((await s.fetch(`/Patient/${A.id}`, { headers: { authorization: `Bearer ${foreign}` } })).status).toBe(401);
  const wrongAudience = await mintPatientToken({ privateJwk: idp.key.privateJwk, issuer: IDP.issuer, audience: 'urn:other' }, A.egn);
  const res = await s.fetch(`/Patient/${A.id}`, { headers: { authorization: `Bearer ${wrongAudience}` } });
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
});

test("the patient's audit trail lists who accessed the record, and only theirs", async () => {
  // A pharmacy looks up the patient's demographics; the hospital reads the observation.
  expect((await s.fetch(`/Patient/${A.id}`, { headers: { authorization: `Bearer ${pharmacyToken}` } })).status).toBe(200);
  expect((await s.fetch(`/Observation/${A.obs}`)).status).toBe(200);
  // A pharmacy reading an Observation is refused, and that attempt is in the trail as well.
  expect((await s.fetch(`/Observation/${A.obs}`, { headers: { authorization: `Bearer ${pharmacyToken}` } })).status).toBe(403);

  const trail = await s.fetch(`/AuditEvent?patient=Patient/${A.id}&_count=200&_sort=-date`, { headers: asA() });
  expect(trail.status).toBe(200);
  const events = trail.body.entry.filter((e: any) => e.search?.mode !== 'outcome').map((e: any) => e.resource);
  const who = (e: any) => e.agent.find((a: any) => a.requestor)?.who?.identifier?.value ?? e.agent[0]?.who?.identifier?.value;
  const touches = (e: any, ref: string) => (e.entity ?? []).some((x: any) => x.what?.reference === ref);
  expect(events.some((e: any) => touches(e, `Patient/${A.id}`) && e.outcome === '0' && JSON.stringify(e.agent).includes('PH777'))).toBe(true);
  expect(events.some((e: any) => touches(e, `Observation/${A.obs}`) && e.outcome === '0')).toBe(true);
  expect(events.some((e: any) => touches(e, `Observation/${A.obs}`) && e.outcome !== '0' && JSON.stringify(e.agent).includes('PH777'))).toBe(true);
  // The patient's own reads are in it too.
  expect(events.some((e: any) => e.agent.some((a: any) => JSON.stringify(a).includes(A.egn) || JSON.stringify(a).includes(`Patient/${A.id}`)))).toBe(true);
  expect(events.every((e: any) => who(e) !== undefined || e.agent.length > 0)).toBe(true);
  // Nothing about B that A did not ask for by id leaks through the trail (B's encounter was never named).
  expect(JSON.stringify(events)).not.toContain(B.encounter);

  // Asking for B's trail yields only A's own attempts on B (they name B because A named B), never what others did.
  const othersTrail = await s.fetch(`/AuditEvent?patient=Patient/${B.id}`, { headers: asA() });
  const othersEvents = othersTrail.status === 200 ? othersTrail.body.entry.filter((e: any) => e.search?.mode !== 'outcome').map((e: any) => e.resource) : [];
  expect(othersEvents.every((e: any) => e.agent.some((a: any) => a.requestor && a.who?.reference === `Patient/${A.id}`))).toBe(true);
  // Audit records cannot be changed through the API, not even by their subject.
  const first = events[0];
  expect((await s.fetch(`/AuditEvent/${first.id}`, { method: 'DELETE', headers: asA() })).status).toBe(403);
  expect((await s.fetch(`/AuditEvent/${first.id}`, { method: 'DELETE' })).status).toBe(403);
});

test('failed authentication leaves an AuditEvent too', async () => {
  const auditor = await s.clientToken({ role: 'auditor' });
  const before = await s.fetch('/AuditEvent?outcome=4,8&_summary=count&_total=accurate', { headers: { authorization: `Bearer ${auditor}` } });
  expect((await s.fetch(`/Patient/${A.id}`, { headers: { authorization: 'Bearer not-a-token' } })).status).toBe(401);
  const after = await s.fetch('/AuditEvent?outcome=4,8&_summary=count&_total=accurate', { headers: { authorization: `Bearer ${auditor}` } });
  expect(after.status).toBe(200);
  expect(after.body.total).toBeGreaterThan(before.body.total);
});
