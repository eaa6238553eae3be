// Issue 11, "one gate to the data": every path into data, for every kind of restriction (role, granular
// scope, patient compartment, view), over HTTP against PostgreSQL. For each path the caller asks once
// about data it may not see and once about data that does not exist: the forbidden data never appears,
// and the two answers are the same (status and body, ids aside), so its existence cannot be inferred.
import { BG_EGN_SYSTEM, buildObservation, validEgn } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';
import { createCitizenIdp } from '../support/tokens';

let s: TestServer;
let idp: Awaited<ReturnType<typeof createCitizenIdp>>;
const FAKE = '00000000-0000-4000-8000-00000000dead';
const LAB = 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
const category = (code: string) => [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code }] }];

/** What the tests look at: two patients and their records. */
const d = {} as {
  A: string;
  B: string;
  egnA: string;
  egnB: string;
  gp: string;
  org: string;
  labA: string;
  vitalA: string;
  labB: string;
  encA: string;
  condA: string;
  condB: string;
  mrA: string;
  mdA: string;
};
const tok = {} as Record<'hospital' | 'registryAdmin' | 'pharmacy' | 'lab' | 'auditor' | 'patientA', string>;

const as = (who: keyof typeof tok, init: RequestInit & { json?: unknown } = {}) => ({ ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${tok[who]}` } });

async function post(type: string, body: Record<string, unknown>): Promise<string> {
  const res = await s.fetch(`/${type}`, { method: 'POST', json: { ...body, resourceType: type } });
  expect([type, res.status, res.text.slice(0, 300)]).toEqual([type, 201, expect.any(String)]);
  return res.body.id;
}

beforeAll(async () => {
  idp = await createCitizenIdp();
  s = await startTestServer({ env: { ...idp.env, RATE_LIMIT_PER_MINUTE: '0' } });
  d.egnA = validEgn();
  d.egnB = validEgn();
  d.org = await post('Organization', { name: 'Hospital', identifier: [{ system: 'http://opennhis.org/fhir/sid/facility-code', value: 'HOSPX' }] });
  d.gp = await post('Practitioner', { name: [{ family: 'Petrov' }] });
  // A carries elements a pharmacy's demographics view must not show.
  d.A = await post('Patient', {
    identifier: [{ system: BG_EGN_SYSTEM, value: d.egnA }],
    name: [{ family: 'Dimitrova', given: ['Ana'] }],
    gender: 'female',
    birthDate: '1975-05-05',
    maritalStatus: { text: 'MARITAL-SECRET' },
    generalPractitioner: [{ reference: `Practitioner/${d.gp}` }],
    contact: [{ name: { text: 'CONTACT-SECRET' } }],
  });
  d.B = await post('Patient', { identifier: [{ system: BG_EGN_SYSTEM, value: d.egnB }], name: [{ family: 'Borisova' }], gender: 'female', birthDate: '1975-05-05' });
  d.encA = await post('Encounter', { status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${d.A}` }, serviceProvider: { reference: `Organization/${d.org}` } });
  d.labA = await post('Observation', { ...buildObservation({ subject: { reference: `Patient/${d.A}` }, category: category('laboratory') }), resourceType: undefined });
  d.vitalA = await post('Observation', { ...buildObservation({ subject: { reference: `Patient/${d.A}` }, category: category('vital-signs'), code: { coding: [{ system: 'http://loinc.org', code: '8310-5' }] }, encounter: { reference: `Encounter/${d.encA}` } }), resourceType: undefined });
  d.labB = await post('Observation', { ...buildObservation({ subject: { reference: `Patient/${d.B}` }, category: category('laboratory') }), resourceType: undefined });
  const condition = (p: string) => ({ clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { text: 'CONDITION-SECRET' }, subject: { reference: `Patient/${p}` } });
  d.condA = await post('Condition', condition(d.A));
  d.condB = await post('Condition', condition(d.B));
  d.mrA = await post('MedicationRequest', { status: 'active', intent: 'order', medicationCodeableConcept: { text: 'ramipril' }, subject: { reference: `Patient/${d.A}` }, encounter: { reference: `Encounter/${d.encA}` } });
  d.mdA = await post('MedicationDispense', { status: 'completed', medicationCodeableConcept: { text: 'ramipril' }, subject: { reference: `Patient/${d.A}` }, authorizingPrescription: [{ reference: `MedicationRequest/${d.mrA}` }] });

  tok.hospital = s.tokens.hospital;
  tok.registryAdmin = s.tokens.registryAdmin;
  tok.pharmacy = await s.clientToken({ role: 'pharmacy', organization: 'PH001' });
  tok.lab = await s.clientToken({ role: 'laboratory', scopes: [`system/Observation.crus?category=${LAB}`, 'system/Patient.rs'] });
  tok.auditor = await s.clientToken({ role: 'auditor' });
  tok.patientA = await idp.mint(d.egnA);
}, 120_000);
afterAll(async () => {
  await s?.close();
  idp?.remove();
});

/** The body as a comparable shape: ids, volatile times and links neutralised. */
function shape(text: string, ids: string[]): string {
  let t = text;
  for (const id of ids) t = t.split(id).join('<ID>');
  t = t.replace(/"(lastUpdated|recorded|timestamp)":"[^"]*"/g, '"$1":"<T>"').replace(/_cursor=[A-Za-z0-9_-]+/g, '_cursor=<C>');
  // A batch-response Bundle has an id of its own.
  t = t.replace(/^\{"resourceType":"Bundle","id":"[^"]+"/, '{"resourceType":"Bundle"');
  return t;
}

/**
 * The gate's promise for one path: asked about `forbidden` (which exists) and about a made-up id, the
 * caller gets the same answer, and nothing of the forbidden resource (its id, its content marker).
 */
async function expectNoOracle(who: keyof typeof tok, path: (id: string) => string, forbidden: string, init: (id: string) => RequestInit & { json?: unknown } = () => ({}), leak?: string) {
  const real = await s.fetch(path(forbidden), as(who, init(forbidden)));
  const fake = await s.fetch(path(FAKE), as(who, init(FAKE)));
  const label = `${who} ${path('{id}')}`;
  expect([label, real.status]).toEqual([label, fake.status]);
  expect([label, real.status]).not.toEqual([label, 500]);
  expect([label, shape(real.text, [forbidden])]).toEqual([label, shape(fake.text, [FAKE])]);
  // What came back, without the echoes of the caller's own request (links, a batch entry's outcome).
  const returned = JSON.stringify(resourcesIn(real.body));
  if (real.status < 300) expect([label, returned.includes(forbidden)]).toEqual([label, false]);
  if (leak) expect([label, returned.includes(leak)]).toEqual([label, false]);
}

/** Every resource an answer holds (nested Bundles opened), OperationOutcomes aside. */
function resourcesIn(body: unknown): unknown[] {
  const b = body as { resourceType?: string; entry?: { resource?: unknown }[] } | undefined;
  if (!b || typeof b !== 'object') return [];
  if (b.resourceType === 'OperationOutcome') return [];
  if (b.resourceType !== 'Bundle') return [b];
  return (b.entry ?? []).flatMap((e) => resourcesIn(e.resource));
}

const entryIds = (bundle: { entry?: { resource?: { resourceType: string; id: string } }[] }) =>
  (bundle.entry ?? []).filter((e) => e.resource && e.resource.resourceType !== 'OperationOutcome').map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);

describe('role: a type the role may not read never comes back, whatever the path', () => {
  test('registry administrator and Observations: read, search, includes, _has, chains, system search, batch', async () => {
    const paths: ((id: string) => string)[] = [
      (id) => `/Patient?_id=${d.A}&_revinclude=Observation:patient&_has:Observation:patient:_id=${id}`,
      (id) => `/Patient?_has:Observation:patient:_id=${id}&_summary=count`,
      (id) => `/Patient?_has:Observation:subject:_id=${id}`,
      (id) => `/Patient?_id=${d.A}&_revinclude=Observation:patient&_revinclude:iterate=Observation:has-member&_has:Observation:patient:_id=${id}`,
    ];
    for (const p of paths) await expectNoOracle('registryAdmin', p, d.labA);
    const rev = await s.fetch(`/Patient?_id=${d.A}&_revinclude=Observation:patient&_revinclude=Encounter:patient`, as('registryAdmin'));
    expect(rev.status).toBe(200);
    expect(entryIds(rev.body)).toEqual([`Patient/${d.A}`]);
    const iterate = await s.fetch(`/Organization?_id=${d.org}&_revinclude=Encounter:service-provider&_revinclude:iterate=Observation:encounter`, as('registryAdmin'));
    expect(entryIds(iterate.body)).toEqual([`Organization/${d.org}`]);
    // Asked for by id, the type itself is refused (403 naming the rule), as it always was.
    expect((await s.fetch(`/Observation/${d.labA}`, as('registryAdmin'))).status).toBe(403);
    expect((await s.fetch(`/?_type=Observation&_id=${d.labA}`, as('registryAdmin'))).status).toBe(403);
  });

  test('pharmacy and Encounters/Conditions: includes and chains return nothing of them; naming them is refused', async () => {
    const inc = await s.fetch(`/MedicationRequest?_id=${d.mrA}&_include=MedicationRequest:encounter&_include=MedicationRequest:subject`, as('pharmacy'));
    expect(inc.status).toBe(200);
    expect(entryIds(inc.body).sort()).toEqual([`MedicationRequest/${d.mrA}`, `Patient/${d.A}`].sort());
    await expectNoOracle('pharmacy', (id) => `/MedicationRequest?encounter:Encounter._id=${id}`, d.encA);
    await expectNoOracle('pharmacy', (id) => `/MedicationRequest?_has:MedicationDispense:prescription:_id=${id}&_summary=count`, d.mdA);
    // System search authorizes every _type, not only the first.
    expect((await s.fetch(`/?_type=MedicationRequest&_type=Condition&_id=${d.mrA},${d.condA}`, as('pharmacy'))).status).toBe(403);
    expect((await s.fetch(`/?_type=MedicationRequest,Condition&_id=${d.condA}`, as('pharmacy'))).status).toBe(403);
  });

  test('conditional create: a match the caller may not see is never answered with its body', async () => {
    const md = { resourceType: 'MedicationDispense', status: 'completed', medicationCodeableConcept: { text: 'x' }, subject: { reference: `Patient/${d.A}` } };
    await expectNoOracle('pharmacy', () => '/MedicationDispense', d.mdA, (id) => ({ method: 'POST', json: md, headers: { 'if-none-exist': `_id=${id}` } }));
  });

  test('AuditEvents reach only auditors and patients: not through system search, system history or _revinclude', async () => {
    expect((await s.fetch('/AuditEvent', as('hospital'))).status).toBe(403);
    const system = await s.fetch('/?_count=1000', as('hospital'));
    expect(system.status).toBe(200);
    expect(entryIds(system.body).some((e) => e.startsWith('AuditEvent/'))).toBe(false);
    const history = await s.fetch('/_history?_count=1000', as('hospital'));
    expect(history.status).toBe(200);
    expect(JSON.stringify(history.body)).not.toContain('"resourceType":"AuditEvent"');
    const rev = await s.fetch(`/Patient?_id=${d.A}&_revinclude=AuditEvent:patient`, as('hospital'));
    expect(entryIds(rev.body)).toEqual([`Patient/${d.A}`]);
    expect((await s.fetch('/?_type=AuditEvent', as('auditor'))).status).toBe(400);
    // An auditor reads the trail, and through it nothing else.
    const withEntities = await s.fetch(`/AuditEvent?patient=Patient/${d.A}&_include=AuditEvent:entity&_count=200`, as('auditor'));
    expect(withEntities.status).toBe(200);
    expect(entryIds(withEntities.body).every((e) => e.startsWith('AuditEvent/'))).toBe(true);
    expect(withEntities.text).not.toContain('CONDITION-SECRET');
  });
});

describe('granular scope: a client limited to laboratory Observations sees no other, by any path', () => {
  test('read, vread, history, search, count, batch entries', async () => {
    const paths: ((id: string) => string)[] = [
      (id) => `/Observation/${id}`,
      (id) => `/Observation/${id}/_history/1`,
      (id) => `/Observation/${id}/_history`,
      (id) => `/Observation?_id=${id}`,
      (id) => `/Observation?_id=${id}&_summary=count`,
      (id) => `/Observation?_id=${id}&_total=accurate`,
      (id) => `/Patient/${d.A}/Observation?_id=${id}`,
      (id) => `/?_type=Observation&_id=${id}&_summary=count`,
      (id) => `/Patient?_has:Observation:patient:_id=${id}&_summary=count`,
    ];
    for (const p of paths) await expectNoOracle('lab', p, d.vitalA);
    const batch = (id: string) => ({ method: 'POST', json: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Observation/${id}` } }, { request: { method: 'GET', url: `Observation?_id=${id}` } }] } });
    await expectNoOracle('lab', () => '/', d.vitalA, batch);
    const own = await s.fetch(`/Observation?_id=${d.labA},${d.vitalA}`, as('lab'));
    expect(entryIds(own.body)).toEqual([`Observation/${d.labA}`]);
  });

  test('the grant holds whatever the query: padded past the parameter limit, or over several types', async () => {
    const padding = Array.from({ length: 70 }, (_, i) => `_pretty=${i}`).join('&');
    const padded = await s.fetch(`/Observation?_id=${d.labA},${d.vitalA}&${padding}`, as('lab'));
    expect(padded.status).toBeLessThan(500);
    expect(entryIds(padded.body)).toEqual([`Observation/${d.labA}`]);
    const system = await s.fetch(`/?_type=Observation&_id=${d.labA},${d.vitalA}&${padding}`, as('lab'));
    expect(entryIds(system.body)).toEqual([`Observation/${d.labA}`]);
  });

  test('conditional create, update and delete match only inside the grant; writes stay inside it', async () => {
    const lab = { ...buildObservation({ subject: { reference: `Patient/${d.A}` }, category: category('laboratory') }) };
    const created = await s.fetch('/Observation', as('lab', { method: 'POST', json: lab, headers: { 'if-none-exist': `_id=${d.vitalA}` } }));
    expect(created.status).toBe(201);
    expect(created.body.id).not.toBe(d.vitalA);
    expect(created.text).not.toContain(d.vitalA);
    await expectNoOracle('lab', (id) => `/Observation?_id=${id}`, d.vitalA, () => ({ method: 'DELETE' }));
    expect((await s.fetch(`/Observation/${d.vitalA}`)).status).toBe(200);
    // Writing outside the grant is refused, by id or by content; a client-chosen id cannot tell whether it is taken.
    const vital = { ...buildObservation({ subject: { reference: `Patient/${d.A}` }, category: category('vital-signs') }), id: d.vitalA };
    await expectNoOracle('lab', (id) => `/Observation/${id}`, d.vitalA, (id) => ({ method: 'PUT', json: { ...vital, id, category: category('laboratory') } }));
    expect((await s.fetch('/Observation', as('lab', { method: 'POST', json: { ...vital, id: undefined } }))).status).toBe(403);
    expect((await s.fetch(`/Observation/${d.vitalA}`)).body.meta.versionId).toBe('1');
  });
});

describe('patient compartment: a patient sees only their own record', () => {
  test("another patient's data: every path answers as for nothing", async () => {
    const paths: ((id: string) => string)[] = [
      (id) => `/Observation/${id}`,
      (id) => `/Observation/${id}/_history/1`,
      (id) => `/Observation/${id}/_history`,
      (id) => `/Observation?_id=${id}`,
      (id) => `/Observation?_id=${id}&_summary=count`,
      (id) => `/Patient/${id}/$everything`,
      (id) => `/Patient/${id}/Observation`,
      (id) => `/Patient/${id}`,
      (id) => `/Observation?subject:Patient._id=${id}&_summary=count`,
      (id) => `/?_type=Observation&subject=Patient/${id}&_summary=count`,
      (id) => `/Patient?_id=${d.A}&_has:Observation:patient:_id=${id}`,
      (id) => `/Observation?_id=${d.labA}&_include=Observation:has-member&_revinclude=Observation:has-member&_has:Observation:has-member:_id=${id}`,
    ];
    for (const p of paths) await expectNoOracle('patientA', p, p === paths[5] || p === paths[6] || p === paths[7] || p === paths[8] || p === paths[9] ? d.B : d.labB);
  });

  test("a system-search count of someone else's identifier tells nothing (nor does a diagnosis code)", async () => {
    const count = (egn: string, extra = '') => s.fetch(`/?_type=Observation&subject:Patient.identifier=${encodeURIComponent(`${BG_EGN_SYSTEM}|${egn}`)}${extra}&_summary=count`, as('patientA'));
    const other = await count(d.egnB);
    const madeUp = await count(validEgn());
    expect(other.status).toBe(200);
    expect(other.body.total).toBe(0);
    expect(madeUp.body.total).toBe(0);
    expect((await count(d.egnB, '&code=8867-4')).body.total).toBe(0);
    expect((await count(d.egnA)).body.total).toBeGreaterThan(0);
  });
});

describe('view: a pharmacy sees who a patient is, nothing of their care', () => {
  test('read, search, include and history serve demographics only', async () => {
    const leaks = ['MARITAL-SECRET', 'CONTACT-SECRET', d.gp];
    for (const path of [`/Patient/${d.A}`, `/Patient/${d.A}/_history/1`, `/Patient/${d.A}/_history`, `/Patient?identifier=${BG_EGN_SYSTEM}|${d.egnA}`, `/MedicationRequest?_id=${d.mrA}&_include=MedicationRequest:subject`]) {
      const res = await s.fetch(path, as('pharmacy'));
      expect([path, res.status]).toEqual([path, 200]);
      for (const leak of leaks) expect([path, leak, res.text.includes(leak)]).toEqual([path, leak, false]);
      expect(res.text).toContain('Dimitrova');
      expect(res.text).toContain('SUBSETTED');
    }
  });

  test('selecting or following by what the view hides is refused or yields nothing', async () => {
    expect((await s.fetch(`/Patient?general-practitioner=Practitioner/${d.gp}`, as('pharmacy'))).status).toBe(403);
    expect((await s.fetch(`/MedicationRequest?subject:Patient.general-practitioner=Practitioner/${d.gp}`, as('pharmacy'))).status).toBe(403);
    const inc = await s.fetch(`/Patient?_id=${d.A}&_include=Patient:general-practitioner`, as('pharmacy'));
    expect(entryIds(inc.body)).toEqual([`Patient/${d.A}`]);
  });
});

describe('the audit trail', () => {
  test("a patient's trail shows events about them, and of those only what concerns them", async () => {
    // A hospital search that returns both patients' data and names B's identifier in its query.
    const both = await s.fetch(`/Observation?_id=${d.labA},${d.labB}&subject:Patient.identifier=${encodeURIComponent(`${BG_EGN_SYSTEM}|${d.egnA},${BG_EGN_SYSTEM}|${d.egnB}`)}`, { headers: { 'x-request-id': 'search-naming-both' } });
    expect(entryIds(both.body).length).toBe(2);
    const trail = await s.fetch(`/AuditEvent?patient=Patient/${d.A}&_count=500`, as('patientA'));
    expect(trail.status).toBe(200);
    const event = trail.body.entry.map((e: { resource: Record<string, unknown> }) => e.resource).find((e: { entity?: { what?: { identifier?: { value?: string } } }[] }) => e.entity?.some((x) => x.what?.identifier?.value === 'search-naming-both'));
    expect(event).toBeDefined();
    expect(JSON.stringify(event)).not.toContain(d.B);
    expect(JSON.stringify(event)).not.toContain(d.egnB);
    expect(event.entity.some((x: { query?: string }) => x.query !== undefined)).toBe(false);
    expect(JSON.stringify(trail.body)).not.toContain(d.egnB);
  });

  test("a transaction's writes and an async job's writes are each in the patient's trail, under the client that sent them", async () => {
    const tx = await s.fetch('/', { method: 'POST', json: { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:4f0d8c8e-0000-4000-8000-000000000001', resource: buildObservation({ subject: { reference: `Patient/${d.A}` } }), request: { method: 'POST', url: 'Observation' } }] } });
    expect(tx.status).toBe(200);
    const txObs = tx.body.entry[0].response.location.split('/')[1];
    const job = await s.fetch('/', { method: 'POST', headers: { prefer: 'respond-async' }, json: { resourceType: 'Bundle', type: 'batch', entry: [{ resource: buildObservation({ subject: { reference: `Patient/${d.A}` } }), request: { method: 'POST', url: 'Observation' } }] } });
    expect(job.status).toBe(202);
    const statusUrl = job.headers.get('content-location')!.replace(s.url, '');
    let done: Awaited<ReturnType<typeof s.fetch>> | undefined;
    for (let i = 0; i < 200 && !done; i++) {
      const poll = await s.fetch(statusUrl);
      if (poll.status === 200) done = poll;
      else await new Promise((r) => setTimeout(r, 100));
    }
    const jobObs = done!.body.entry[0].response.location.split('/')[1];
    const trail = await s.fetch(`/AuditEvent?patient=Patient/${d.A}&action=C&_count=500`, as('patientA'));
    const creates = trail.body.entry.map((e: { resource: { entity: { what?: { reference?: string } }[]; agent: unknown[] } }) => e.resource);
    for (const obs of [txObs, jobObs]) {
      const ev = creates.find((e: { entity: { what?: { reference?: string } }[] }) => e.entity.some((x) => x.what?.reference?.startsWith(`Observation/${obs}`)));
      expect([obs, ev !== undefined]).toEqual([obs, true]);
      expect(JSON.stringify(ev.agent)).toMatch(/test-hospital-/);
    }
    // Another client cannot read the job's answer.
    expect((await s.fetch(statusUrl, as('lab'))).status).toBe(404);
  });
});
