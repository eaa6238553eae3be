import type { Principal } from '../../../src/auth/principal';
import { createApp } from '../../../src/app';
import { loadConfig } from '../../../src/config/config';
import type { FhirContext } from '../../../src/fhir/context';
import { createResource } from '../../../src/store/write/write-resources';
import { serverWriter } from '../../../src/store/write/writer';
import type { FhirRequest } from '../../../src/fhir/request';
import type { ResourceBody } from '../../../src/store/resource-body';
import { openDatabase } from '../../../src/repository/db';
import { migrateToLatest } from '../../../src/repository/migrate';
import { inTransaction } from '../../../src/repository/transaction';
import { createLogger } from '../../../src/shared/logger';
import { ATC_SYSTEM } from '../../../src/domain/prescription/safety-warnings';
import { buildPatient } from '../../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../../support/db';

/** A settable clock for lease and validity tests. */
export interface TestClock {
  now(): Date;
  set(d: Date): void;
  advance(ms: number): void;
}

export function createTestClock(start = new Date('2026-03-02T09:00:00Z')): TestClock {
  let t = start.getTime();
  return { now: () => new Date(t), set: (d) => (t = d.getTime()), advance: (ms) => (t += ms) };
}

export interface PrescriptionHarness {
  ctx: FhirContext;
  clock: TestClock;
  databaseUrl?: string;
  close(): Promise<void>;
}

/** A FhirContext over a fresh PostgreSQL database (or `databaseUrl`, or PGlite), as app.ts wires it, without HTTP. */
export async function startHarness(opts: { pglite?: boolean; databaseUrl?: string; clock?: TestClock; poolSize?: number } = {}): Promise<PrescriptionHarness> {
  const database: TestDatabase | undefined = opts.pglite || opts.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = opts.databaseUrl ?? database?.url;
  const config = loadConfig({ LOG_LEVEL: 'silent', PRESCRIPTION_EXPIRY_INTERVAL_MS: '86400000', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) });
  const handle = await openDatabase({ databaseUrl, poolSize: opts.poolSize ?? 20 });
  await migrateToLatest(handle.db);
  const clock = opts.clock ?? createTestClock();
  const { ctx, stopBackground } = createApp({ config, db: handle.db, logger: createLogger('silent'), clock });
  return {
    ctx,
    clock,
    databaseUrl,
    close: async () => {
      await stopBackground();
      await handle.close();
      await database?.drop();
    },
  };
}

export function buildPrincipal(role: Principal['role'], o: Partial<Principal> = {}): Principal {
  const clientId = o.clientId ?? `${role}-${o.organization ?? 'x'}`;
  // Scopes as a registered client of the role would be granted (the store confines writes by them).
  const scopes = role === 'patient' ? ['patient/*.rs'] : ['system/*.cruds'];
  return { kind: role === 'patient' ? 'patient' : 'client', clientId, role, scopes, subject: clientId, expiresAt: new Date(Date.now() + 3600_000), ...o };
}

export const pharmacy = (org: string): Principal => buildPrincipal('pharmacy', { organization: org, clientId: `pharmacy-${org}` });
export const prescriber = (org = 'HOSP01'): Principal => buildPrincipal('prescriber', { organization: org, clientId: `prescriber-${org}` });

export function buildRequest(o: { id?: string; query?: Record<string, string>; body?: unknown; principal?: Principal; method?: FhirRequest['method'] }): FhirRequest {
  return {
    method: o.method ?? 'POST',
    params: o.id ? { id: o.id } : {},
    query: new URLSearchParams(o.query ?? {}),
    body: o.body,
    headers: {},
    baseUrl: 'http://nhis.test/fhir',
    requestId: `req-${Math.random().toString(36).slice(2, 10)}`,
    principal: o.principal,
  };
}

export async function storeResource(ctx: FhirContext, resource: Record<string, unknown>): Promise<string> {
  return (await inTransaction(ctx.db, (tx) => createResource(ctx, tx, serverWriter('test-setup'), resource as ResourceBody))).id;
}

export async function seedPatientAndPrescriber(ctx: FhirContext, patient: Record<string, unknown> = {}): Promise<{ patientId: string; practitionerId: string; nationalId: { system: string; value: string } }> {
  const p = buildPatient(patient);
  const patientId = await storeResource(ctx, p);
  const practitionerId = await storeResource(ctx, { resourceType: 'Practitioner', active: true, name: [{ family: 'Petrov', given: ['Ivan'] }] });
  return { patientId, practitionerId, nationalId: (p.identifier as { system: string; value: string }[])[0] };
}

export function buildMedicationRequest(patientId: string, practitionerId: string, o: { atc?: string; quantity?: number; repeats?: number; validityEnd?: string; extra?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    requester: { reference: `Practitioner/${practitionerId}` },
    medicationCodeableConcept: { coding: [{ system: ATC_SYSTEM, code: o.atc ?? 'C09AA05', display: 'ramipril' }] },
    authoredOn: '2026-03-02',
    dosageInstruction: [{ text: '1 tablet daily' }],
    dispenseRequest: {
      quantity: { value: o.quantity ?? 30, unit: 'tablet' },
      numberOfRepeatsAllowed: o.repeats ?? 0,
      ...(o.validityEnd ? { validityPeriod: { end: o.validityEnd } } : {}),
    },
    ...o.extra,
  };
}

export function buildDispense(quantity: number): Record<string, unknown> {
  return { resourceType: 'MedicationDispense', status: 'completed', medicationCodeableConcept: { coding: [{ system: ATC_SYSTEM, code: 'C09AA05' }] }, quantity: { value: quantity, unit: 'tablet' } };
}

/** Parameters part helpers for operation answers. */
export function param(body: any, name: string): any {
  return body.parameter.find((p: any) => p.name === name);
}

export interface Prescribed {
  taskId: string;
  medicationRequestId: string;
  number: string;
  accessCode: string;
  body: any;
}

export function prescribedItems(body: any): Prescribed[] {
  return body.parameter
    .filter((p: any) => p.name === 'prescription')
    .map((p: any) => {
      const part = (n: string) => p.part.find((x: any) => x.name === n);
      return {
        taskId: part('task').resource.id,
        medicationRequestId: part('medicationRequest').resource.id,
        number: part('prescriptionNumber').valueIdentifier.value,
        accessCode: part('accessCode').valueString,
        body,
      };
    });
}
