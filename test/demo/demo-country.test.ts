// Demo registry (issue 5, item 7): a small demo country loads through the validated transaction path in
// REGISTRY_MODE=strict with nothing rejected, is idempotent, and is searchable over HTTP.
import { sql } from 'kysely';
import { createApp } from '../../src/app';
import { demoSeedDecision } from '../../src/demo/auto-seed';
import { loadConfig } from '../../src/config/config';
import { DEMO_KEY_SYSTEM, EGN_SYSTEM, generateDemoCountry, toTransactionBundles, type DemoCountryOptions } from '../../src/demo/demo-country';
import { loadDemoBundles, type DemoLoadReport } from '../../src/demo/demo-loader';
import { FACILITY_CODE_SYSTEM, LOCATION_CODE_SYSTEM, PRACTITIONER_NUMBER_SYSTEM } from '../../src/domain/registry/registry-systems';
import type { FhirContext } from '../../src/fhir/context';
import { SERVER_SCOPE } from '../../src/store/access/access-scope';
import { matchResourceIds } from '../../src/store/search/search-resources';
import { startServer } from '../../src/server';
import { bgEgn } from '../../src/shared/national-id/bg-egn';
import { createLogger } from '../../src/shared/logger';
import { startTestServer, type TestServer } from '../support/server';

const SIZES: Partial<DemoCountryOptions> = { regions: 3, facilities: 24, pharmacies: 6, practitioners: 120, patients: 150 };
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const q = (system: string, value: string) => encodeURIComponent(`${system}|${value}`);

describe('the demo country generator', () => {
  const country = generateDemoCountry(SIZES);

  test('has the sizes asked for, and is the same every time', () => {
    expect(country.counts).toEqual(expect.objectContaining({ Organization: 24, Practitioner: 120, Patient: 150 }));
    expect(country.facilitiesByType.pharmacy).toBe(6);
    expect(Object.values(country.facilitiesByType).every((n) => n >= 1)).toBe(true);
    const regions = country.entries.filter((e) => e.resourceType === 'Location' && /^BG\d\d$/.test((e.resource.identifier as { value: string }[])[0].value));
    expect(regions).toHaveLength(3);
    expect(country.counts.PractitionerRole).toBeGreaterThanOrEqual(120);
    expect(country.counts.HealthcareService).toBeGreaterThan(0);
    expect(JSON.stringify(generateDemoCountry(SIZES).entries)).toBe(JSON.stringify(country.entries));
    expect(JSON.stringify(generateDemoCountry({ ...SIZES, seed: 7 }).entries)).not.toBe(JSON.stringify(country.entries));
  });

  test('every patient has a unique EGN whose checksum, birth date and gender agree with the resource', () => {
    const patients = country.entries.filter((e) => e.resourceType === 'Patient').map((e) => e.resource as any);
    const egns = patients.map((p) => p.identifier.find((i: any) => i.system === EGN_SYSTEM).value as string);
    expect(new Set(egns).size).toBe(patients.length);
    patients.forEach((p, i) => {
      expect(bgEgn.check(egns[i])).toEqual({ valid: true, birthDate: p.birthDate, gender: p.gender });
    });
    // Some Cyrillic names, each with its Latin transliteration.
    const cyrillic = patients.filter((p) => /[А-Яа-я]/.test(p.name[0].family));
    expect(cyrillic.length).toBeGreaterThan(10);
    for (const p of cyrillic) expect(p.name[1].family).toMatch(/^[A-Za-z]+$/);
  });

  test('bigger than one Bundle: later Bundles reference earlier ones conditionally', () => {
    const bundles = toTransactionBundles(country.entries, 50);
    expect(bundles.length).toBeGreaterThan(5);
    const refs = JSON.stringify(bundles[bundles.length - 1]).match(/"reference":"[^"]+"/g) ?? [];
    expect(refs.some((r) => r.includes('PractitionerRole?identifier='))).toBe(true);
  });
});

describe('loading the demo country (PostgreSQL, REGISTRY_MODE=strict)', () => {
  let s: TestServer;
  let ctx: FhirContext;
  const country = generateDemoCountry(SIZES);
  const bundles = toTransactionBundles(country.entries, 50);
  let first: DemoLoadReport;

  beforeAll(async () => {
    s = await startTestServer({ env: { REGISTRY_MODE: 'strict' } });
    expect(s.config.nationalProfiles).toBe('enforce');
    const app = createApp({ config: s.config, db: s.running.db, logger: createLogger('silent') });
    await app.stopBackground();
    ctx = app.ctx;
    first = await loadDemoBundles(ctx, bundles);
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  const countsInDatabase = async () => {
    const rows = await s.running.db.selectFrom('resource').select(['resource_type', sql<string>`count(*)`.as('n')]).where('deleted', '=', false).groupBy('resource_type').execute();
    return Object.fromEntries(rows.map((r) => [r.resource_type, Number(r.n)]));
  };

  test('every entry is accepted and stored once, with its national identifiers claimed', async () => {
    expect(first.failures).toEqual([]);
    expect(first.rejected).toBe(0);
    expect(first.created).toEqual(country.counts);
    expect(first.existing).toEqual({});
    expect(await countsInDatabase()).toEqual(country.counts);
    // The patient registry hook ran for every Patient (one active Patient per EGN).
    const claimed = await s.running.db.selectFrom('patient_national_id').select(sql<string>`count(*)`.as('n')).where('system', '=', EGN_SYSTEM).executeTakeFirstOrThrow();
    expect(Number(claimed.n)).toBe(150);
  });

  test('a second run creates nothing and writes no new versions', async () => {
    const history = async () => Number((await s.running.db.selectFrom('resource_history').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
    const before = await history();
    const again = await loadDemoBundles(ctx, bundles);
    expect(again.rejected).toBe(0);
    expect(again.created).toEqual({});
    expect(again.existing).toEqual(country.counts);
    expect(again.bundlesSent).toBe(0);
    expect(await history()).toBe(before);
    expect(await countsInDatabase()).toEqual(country.counts);
  });

  test('an interrupted load resumes: Bundles whose references point into already stored ones still resolve', async () => {
    // Delete the last 20 patients and load again: only they are created.
    const patients = country.entries.filter((e) => e.resourceType === 'Patient').slice(130);
    for (const p of patients) {
      const id = (await matchResourceIds(ctx.db, SERVER_SCOPE, 'Patient', new URLSearchParams(p.url.split('?')[1]), 1))[0];
      expect((await s.fetch(`/Patient/${id}`, { method: 'DELETE' })).status).toBe(200);
    }
    const resumed = await loadDemoBundles(ctx, bundles);
    expect(resumed.rejected).toBe(0);
    expect(resumed.created).toEqual({ Patient: 20 });
    expect(total(resumed.existing)).toBe(country.entries.length - 20);
  });

  test('over HTTP: a facility by its national code, pharmacies by type, a patient by EGN with a resolved GP', async () => {
    const code = country.examples.hospital.code;
    const byCode = await s.fetch(`/Organization?identifier=${q(FACILITY_CODE_SYSTEM, code)}`);
    expect(byCode.status).toBe(200);
    expect(byCode.body.entry).toHaveLength(1);
    expect(byCode.body.entry[0].resource.name).toBe(country.examples.hospital.name);

    const pharmacies = await s.fetch('/Organization?type=pharmacy&_count=100');
    expect(pharmacies.status).toBe(200);
    expect(pharmacies.body.entry).toHaveLength(6);
    expect(pharmacies.body.entry.map((e: any) => e.resource.type[0].coding[0].code)).toEqual(Array(6).fill('pharmacy'));

    const site = await s.fetch(`/Location?identifier=${q(LOCATION_CODE_SYSTEM, `${code}-01`)}`);
    expect(site.body.entry[0].resource.managingOrganization.reference).toBe(`Organization/${byCode.body.entry[0].resource.id}`);

    const egn = country.examples.patientEgns[0];
    const patient = await s.fetch(`/Patient?identifier=${q(EGN_SYSTEM, egn)}`);
    expect(patient.body.entry).toHaveLength(1);
    const gp = patient.body.entry[0].resource.generalPractitioner[0].reference as string;
    expect(gp).toMatch(/^PractitionerRole\/[A-Za-z0-9-]+$/);
    const role = await s.fetch(`/${gp}`);
    expect(role.status).toBe(200);
    expect(role.body.specialty[0].coding[0].code).toBe('general-practice');
    expect(role.body.identifier[0].system).toBe(DEMO_KEY_SYSTEM);
  });

  test('clinical data can reference the seeded registry by national identifiers in strict mode', async () => {
    const practitioner = country.examples.gpPractitionerNumber;
    const res = await s.fetch('/Encounter', {
      method: 'POST',
      json: {
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { identifier: { system: EGN_SYSTEM, value: country.examples.patientEgns[1] } },
        participant: [{ individual: { identifier: { system: PRACTITIONER_NUMBER_SYSTEM, value: practitioner } } }],
        serviceProvider: { identifier: { system: FACILITY_CODE_SYSTEM, value: country.examples.hospital.code } },
      },
    });
    expect(res.status).toBe(201);
  });
});

describe('SEED_DEMO at start-up', () => {
  test('auto loads an empty embedded database in the background, and not a second time', async () => {
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', REGISTRY_MODE: 'strict' });
    config.dataDir = ''; // in memory
    expect(config.seedDemo).toBe('auto');
    const tiny = { regions: 1, facilities: 8, pharmacies: 2, practitioners: 16, patients: 20 };
    const running = await startServer({ config, logger: createLogger('silent'), demoSeed: tiny });
    try {
      const report = await running.demoSeed;
      expect(report?.failures).toEqual([]);
      expect(report?.rejected).toBe(0);
      expect(report?.created).toEqual(generateDemoCountry(tiny).counts);
      // The database holds patients now: the decision says no.
      expect(await demoSeedDecision(config, running.db, 'pglite')).toEqual({ load: false, reason: 'the database already holds patients' });
    } finally {
      await running.close();
    }
  }, 60_000);

  test('auto never loads PostgreSQL; production turns auto off and refuses on', async () => {
    const config = loadConfig({});
    expect(await demoSeedDecision(config, undefined as never, 'postgres')).toEqual({ load: false, reason: 'SEED_DEMO=auto loads the embedded database only' });
    expect(loadConfig({ NODE_ENV: 'production' }).seedDemo).toBe('off');
    expect(() => loadConfig({ NODE_ENV: 'production', SEED_DEMO: 'on' })).toThrow(/SEED_DEMO=on/);
    expect(() => loadConfig({ SEED_DEMO: 'yes' })).toThrow(/SEED_DEMO/);
    expect(loadConfig({ SEED_DEMO: 'off' }).seedDemo).toBe('off');
  });
});
