// Never dispensed twice: concurrent $accept and $close on one prescription — one instance, two instances sharing
// one PostgreSQL database, and the embedded PGlite.
import { sql } from 'kysely';

jest.setTimeout(60_000);
import { FhirError } from '../../../src/errors/fhir-error';
import type { FhirContext } from '../../../src/fhir/context';
import { prescribeOperation } from '../../../src/fhir/operations/prescription-prescribe';
import { taskAccept } from '../../../src/fhir/operations/task-accept';
import { taskClose } from '../../../src/fhir/operations/task-close';
import {
  buildDispense,
  buildMedicationRequest,
  buildRequest,
  param,
  pharmacy,
  prescribedItems,
  prescriber,
  seedPatientAndPrescriber,
  startHarness,
  type PrescriptionHarness,
} from './prescription-setup';

async function outcome(p: Promise<{ status: number; body?: unknown }>): Promise<{ status: number; body?: any }> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof FhirError) return { status: err.status, body: err.message };
    throw err;
  }
}

async function prescribeOne(ctx: FhirContext) {
  const seeded = await seedPatientAndPrescriber(ctx);
  const res = await prescribeOperation(ctx, buildRequest({ body: buildMedicationRequest(seeded.patientId, seeded.practitionerId, { quantity: 30 }), principal: prescriber() }));
  return prescribedItems(res.body)[0];
}

/** 50 pharmacies claim at once (round-robin over the instances) → one 200, 49 × 409, one secret; then 20 closes → one completion. */
async function raceOn(instances: FhirContext[]): Promise<void> {
  const [first] = instances;
  const p = await prescribeOne(first);
  const accepts = await Promise.all(
    Array.from({ length: 50 }, (_, i) => outcome(taskAccept(instances[i % instances.length], buildRequest({ id: p.taskId, query: { ac: p.accessCode }, principal: pharmacy(`RACE${i}`) })))),
  );
  const won = accepts.filter((r) => r.status === 200);
  expect(won).toHaveLength(1);
  expect(accepts.filter((r) => r.status === 409)).toHaveLength(49);
  const winner = accepts.findIndex((r) => r.status === 200);
  const secret = param(won[0].body, 'secret').valueString;
  const events = await sql<{ n: number }>`select count(*)::int as n from prescription_event where task_id = ${p.taskId} and action = 'accept'`.execute(first.db);
  expect(events.rows[0].n).toBe(1);

  const closes = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      outcome(taskClose(instances[i % instances.length], buildRequest({ id: p.taskId, query: { secret }, principal: pharmacy(`RACE${winner}`), body: buildDispense(30) }))),
    ),
  );
  expect(closes.filter((r) => r.status === 200)).toHaveLength(1);
  expect(closes.filter((r) => r.status === 409)).toHaveLength(19);
  const dispenses = await sql<{ n: number }>`select count(*)::int as n from resource where resource_type = 'MedicationDispense' and content like ${`%Task/${p.taskId}%`}`.execute(first.db);
  expect(dispenses.rows[0].n).toBe(1);
  const row = await sql<any>`select state, quantity_dispensed::float as d from prescription where task_id = ${p.taskId}`.execute(first.db);
  expect(row.rows[0]).toEqual({ state: 'completed', d: 30 });
}

describe('PostgreSQL, one instance', () => {
  let h: PrescriptionHarness;
  beforeAll(async () => {
    h = await startHarness();
  }, 180_000);
  afterAll(async () => h.close());
  test('50 × $accept → one winner; 20 × $close → one completion, one MedicationDispense', async () => {
    await raceOn([h.ctx]);
  });
});

describe('PostgreSQL, two instances sharing one database', () => {
  let a: PrescriptionHarness;
  let b: PrescriptionHarness;
  beforeAll(async () => {
    a = await startHarness();
    b = await startHarness({ databaseUrl: a.databaseUrl, clock: a.clock });
  }, 180_000);
  afterAll(async () => {
    await b.close();
    await a.close();
  });
  test('the same race spread over both instances', async () => {
    await raceOn([a.ctx, b.ctx]);
  });
});

describe('PGlite', () => {
  let h: PrescriptionHarness;
  beforeAll(async () => {
    h = await startHarness({ pglite: true });
  }, 180_000);
  afterAll(async () => h.close());
  test('the same race on the embedded database', async () => {
    await raceOn([h.ctx]);
  });
});
