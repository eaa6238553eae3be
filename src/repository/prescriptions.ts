import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db';
import type { Tx } from './transaction';

/**
 * SQL of the ePrescription workflow (migration 0006). Every state change is
 * one conditional UPDATE on the current state (compare-and-set) that returns
 * the new row, or nothing when another writer got there first; the caller
 * reads the row again only to explain the refusal.
 */
export type PrescriptionState = 'ready' | 'in-progress' | 'completed' | 'cancelled' | 'expired';

export interface PrescriptionRow {
  taskId: string;
  medicationRequestId: string;
  number: string;
  patientId: string;
  groupId: string | null;
  atcCode: string | null;
  prescriberOrg: string | null;
  prescriberClient: string | null;
  state: PrescriptionState;
  quantityPerFill: number;
  quantityPrescribed: number;
  quantityDispensed: number;
  claimDispensed: number;
  fillsAllowed: number;
  fillsUsed: number;
  validityEnd: Date;
  accessCodeHash: string;
  claimCounter: number;
  ownerOrg: string | null;
  ownerClient: string | null;
  leaseExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A changed row and the state it left (several states may lead to one change). */
export interface TransitionedRow extends PrescriptionRow {
  previousState: PrescriptionState;
  previousOwnerOrg: string | null;
}

export interface PrescriptionInput {
  taskId: string;
  medicationRequestId: string;
  number: string;
  patientId: string;
  groupId?: string;
  atcCode?: string;
  prescriberOrg?: string;
  prescriberClient?: string;
  quantityPerFill: number;
  fillsAllowed: number;
  validityEnd: Date;
  accessCodeHash: string;
  now: Date;
}

export interface PrescriptionEventInput {
  taskId: string;
  medicationRequestId: string;
  at: Date;
  action: string;
  fromState?: PrescriptionState;
  toState: PrescriptionState;
  actorClient?: string;
  actorOrg?: string;
  actorRole?: string;
  reason?: string;
  detail?: Record<string, unknown>;
}

export interface PrescriptionEventRow extends Omit<PrescriptionEventInput, 'detail'> {
  seq: string;
  detail?: Record<string, unknown>;
}

type Executor = Db | Tx;
type RawRow = Record<string, unknown>;

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const maybeDate = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toRow(r: RawRow): PrescriptionRow {
  return {
    taskId: String(r.task_id),
    medicationRequestId: String(r.medication_request_id),
    number: String(r.number),
    patientId: String(r.patient_id),
    groupId: str(r.group_id),
    atcCode: str(r.atc_code),
    prescriberOrg: str(r.prescriber_org),
    prescriberClient: str(r.prescriber_client),
    state: r.state as PrescriptionState,
    quantityPerFill: Number(r.quantity_per_fill),
    quantityPrescribed: Number(r.quantity_prescribed),
    quantityDispensed: Number(r.quantity_dispensed),
    claimDispensed: Number(r.claim_dispensed),
    fillsAllowed: Number(r.fills_allowed),
    fillsUsed: Number(r.fills_used),
    validityEnd: date(r.validity_end),
    accessCodeHash: String(r.access_code_hash),
    claimCounter: Number(r.claim_counter),
    ownerOrg: str(r.owner_org),
    ownerClient: str(r.owner_client),
    leaseExpiresAt: maybeDate(r.lease_expires_at),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

function toTransitioned(r: RawRow): TransitionedRow {
  return { ...toRow(r), previousState: r.prev_state as PrescriptionState, previousOwnerOrg: str(r.prev_owner_org) };
}

async function rows(ex: Executor, query: RawBuilder<RawRow>): Promise<RawRow[]> {
  return (await query.execute(ex)).rows;
}

/** The next serial of the national prescription number (a PostgreSQL sequence: unique across processes). */
export async function nextPrescriptionSerial(tx: Tx): Promise<number> {
  const [r] = await rows(tx, sql<RawRow>`select nextval('prescription_number_seq') as n`);
  return Number(r.n);
}

export async function insertPrescription(tx: Tx, p: PrescriptionInput): Promise<PrescriptionRow> {
  const total = p.quantityPerFill * p.fillsAllowed;
  const [r] = await rows(
    tx,
    sql<RawRow>`insert into prescription (task_id, medication_request_id, number, patient_id, group_id, atc_code, prescriber_org, prescriber_client,
        state, quantity_per_fill, quantity_prescribed, fills_allowed, validity_end, access_code_hash, created_at, updated_at)
      values (${p.taskId}, ${p.medicationRequestId}, ${p.number}, ${p.patientId}, ${p.groupId ?? null}, ${p.atcCode ?? null}, ${p.prescriberOrg ?? null},
        ${p.prescriberClient ?? null}, 'ready', ${String(p.quantityPerFill)}::numeric, ${String(total)}::numeric, ${p.fillsAllowed}, ${p.validityEnd},
        ${p.accessCodeHash}, ${p.now}, ${p.now})
      returning *`,
  );
  return toRow(r);
}

export async function findPrescription(ex: Executor, taskId: string): Promise<PrescriptionRow | undefined> {
  const [r] = await rows(ex, sql<RawRow>`select * from prescription where task_id = ${taskId}`);
  return r && toRow(r);
}

export async function findPrescriptionByMedicationRequest(ex: Executor, medicationRequestId: string): Promise<PrescriptionRow | undefined> {
  const [r] = await rows(ex, sql<RawRow>`select * from prescription where medication_request_id = ${medicationRequestId}`);
  return r && toRow(r);
}

/** The patient's prescriptions that can still be dispensed (nationwide), for safety warnings. */
export async function listOpenPrescriptionsOfPatient(ex: Executor, patientId: string): Promise<PrescriptionRow[]> {
  return (await rows(ex, sql<RawRow>`select * from prescription where patient_id = ${patientId} and state in ('ready', 'in-progress') order by created_at, task_id`)).map(toRow);
}

/**
 * A single conditional UPDATE: `set` applies only where `condition` holds on
 * the row's current version. The sub-select locks the row, so the returned
 * previous state is the one this update replaced.
 */
async function transition(tx: Tx, taskId: string, set: RawBuilder<unknown>, condition: RawBuilder<unknown>): Promise<TransitionedRow | undefined> {
  const [r] = await rows(
    tx,
    sql<RawRow>`update prescription p set ${set}
      from (select task_id, state as prev_state, owner_org as prev_owner_org from prescription where task_id = ${taskId} for update) old
      where p.task_id = old.task_id and (${condition})
      returning p.*, old.prev_state, old.prev_owner_org`,
  );
  return r && toTransitioned(r);
}

/** ready (or in-progress with a lapsed lease) → in-progress, owned by the pharmacy; a new claim counter. */
export function claimPrescription(
  tx: Tx,
  a: { taskId: string; accessCodeHash: string; org: string; client: string; now: Date; leaseUntil: Date },
): Promise<TransitionedRow | undefined> {
  return transition(
    tx,
    a.taskId,
    sql`state = 'in-progress', owner_org = ${a.org}, owner_client = ${a.client}, lease_expires_at = ${a.leaseUntil},
      claim_counter = p.claim_counter + 1, claim_dispensed = 0, updated_at = ${a.now}`,
    sql`p.access_code_hash = ${a.accessCodeHash} and p.validity_end > ${a.now}
      and (p.state = 'ready' or (p.state = 'in-progress' and p.lease_expires_at <= ${a.now}))`,
  );
}

/** The claim identified by `claimCounter`, still leased: the precondition of reject, dispense and close. */
const heldClaim = (claimCounter: number, now: Date) => sql`p.state = 'in-progress' and p.claim_counter = ${claimCounter} and p.lease_expires_at > ${now}`;

/** $reject: in-progress → ready, the secret invalidated; only when nothing was dispensed in this claim. */
export function releaseClaim(tx: Tx, a: { taskId: string; claimCounter: number; now: Date }): Promise<TransitionedRow | undefined> {
  return transition(
    tx,
    a.taskId,
    sql`state = 'ready', owner_org = null, owner_client = null, lease_expires_at = null, claim_counter = p.claim_counter + 1, updated_at = ${a.now}`,
    sql`${heldClaim(a.claimCounter, a.now)} and p.claim_dispensed = 0`,
  );
}

/** $dispense: adds to the dispensed quantity within the claim; the state stays in-progress. */
export function addDispensed(tx: Tx, a: { taskId: string; claimCounter: number; quantity: number; now: Date }): Promise<TransitionedRow | undefined> {
  const q = sql`${String(a.quantity)}::numeric`;
  return transition(
    tx,
    a.taskId,
    sql`quantity_dispensed = p.quantity_dispensed + ${q}, claim_dispensed = p.claim_dispensed + ${q}, updated_at = ${a.now}`,
    sql`${heldClaim(a.claimCounter, a.now)} and p.quantity_dispensed + ${q} <= p.quantity_prescribed and p.claim_dispensed + ${q} <= p.quantity_per_fill`,
  );
}

/**
 * $close: adds the final quantity, ends the claim (secret invalidated) and
 * uses one fill; completed when no fill or quantity remains, else ready again.
 */
export function closeClaim(tx: Tx, a: { taskId: string; claimCounter: number; quantity: number; now: Date }): Promise<TransitionedRow | undefined> {
  const q = sql`${String(a.quantity)}::numeric`;
  return transition(
    tx,
    a.taskId,
    sql`quantity_dispensed = p.quantity_dispensed + ${q}, claim_dispensed = 0, fills_used = p.fills_used + 1,
      claim_counter = p.claim_counter + 1, owner_org = null, owner_client = null, lease_expires_at = null, updated_at = ${a.now},
      state = case when p.fills_used + 1 >= p.fills_allowed or p.quantity_dispensed + ${q} >= p.quantity_prescribed then 'completed' else 'ready' end`,
    sql`${heldClaim(a.claimCounter, a.now)} and p.claim_dispensed + ${q} > 0
      and p.quantity_dispensed + ${q} <= p.quantity_prescribed and p.claim_dispensed + ${q} <= p.quantity_per_fill`,
  );
}

/** $abort: ready (or a lapsed claim) → cancelled. */
export function cancelPrescription(tx: Tx, a: { taskId: string; now: Date }): Promise<TransitionedRow | undefined> {
  return transition(
    tx,
    a.taskId,
    sql`state = 'cancelled', owner_org = null, owner_client = null, lease_expires_at = null, claim_counter = p.claim_counter + 1, updated_at = ${a.now}`,
    sql`p.state = 'ready' or (p.state = 'in-progress' and p.lease_expires_at <= ${a.now})`,
  );
}

/** Validity ended and nobody holds a live claim → expired. */
export function expirePrescription(tx: Tx, a: { taskId: string; now: Date }): Promise<TransitionedRow | undefined> {
  return transition(
    tx,
    a.taskId,
    sql`state = 'expired', owner_org = null, owner_client = null, lease_expires_at = null, claim_counter = p.claim_counter + 1, updated_at = ${a.now}`,
    sql`p.validity_end <= ${a.now} and (p.state = 'ready' or (p.state = 'in-progress' and p.lease_expires_at <= ${a.now}))`,
  );
}

/** A lapsed lease within validity → ready again; the old secret stops working. */
export function releaseLapsedLease(tx: Tx, a: { taskId: string; now: Date }): Promise<TransitionedRow | undefined> {
  return transition(
    tx,
    a.taskId,
    sql`state = 'ready', owner_org = null, owner_client = null, lease_expires_at = null, claim_counter = p.claim_counter + 1, claim_dispensed = 0, updated_at = ${a.now}`,
    sql`p.state = 'in-progress' and p.lease_expires_at <= ${a.now} and p.validity_end > ${a.now}`,
  );
}

/** Task ids the expiry job should look at: validity ended or lease lapsed. Rows locked by others are skipped. */
export async function listDueTasks(tx: Tx, now: Date, limit: number): Promise<string[]> {
  const found = await rows(
    tx,
    sql<RawRow>`select task_id from prescription
      where (state in ('ready', 'in-progress') and validity_end <= ${now}) or (state = 'in-progress' and lease_expires_at <= ${now})
      order by task_id limit ${limit} for update skip locked`,
  );
  return found.map((r) => String(r.task_id));
}

export async function insertPrescriptionEvent(tx: Tx, e: PrescriptionEventInput): Promise<void> {
  await sql`insert into prescription_event (task_id, medication_request_id, at, action, from_state, to_state, actor_client, actor_org, actor_role, reason, detail)
    values (${e.taskId}, ${e.medicationRequestId}, ${e.at}, ${e.action}, ${e.fromState ?? null}, ${e.toState}, ${e.actorClient ?? null},
      ${e.actorOrg ?? null}, ${e.actorRole ?? null}, ${e.reason ?? null}, ${e.detail ? JSON.stringify(e.detail) : null})`.execute(tx);
}

export async function listPrescriptionEvents(ex: Executor, medicationRequestId: string): Promise<PrescriptionEventRow[]> {
  const found = await rows(ex, sql<RawRow>`select * from prescription_event where medication_request_id = ${medicationRequestId} order by seq`);
  return found.map((r) => ({
    seq: String(r.seq),
    taskId: String(r.task_id),
    medicationRequestId: String(r.medication_request_id),
    at: date(r.at),
    action: String(r.action),
    fromState: (str(r.from_state) ?? undefined) as PrescriptionState | undefined,
    toState: r.to_state as PrescriptionState,
    actorClient: str(r.actor_client) ?? undefined,
    actorOrg: str(r.actor_org) ?? undefined,
    actorRole: str(r.actor_role) ?? undefined,
    reason: str(r.reason) ?? undefined,
    detail: r.detail ? (JSON.parse(String(r.detail)) as Record<string, unknown>) : undefined,
  }));
}

/** The HMAC key for claim secrets, made once and shared by every process. */
export async function loadOrCreateServerKey(db: Db, candidate: string): Promise<string> {
  await sql`insert into prescription_server_key (id, key) values (1, ${candidate}) on conflict (id) do nothing`.execute(db);
  const [r] = await rows(db, sql<RawRow>`select key from prescription_server_key where id = 1`);
  return String(r.key);
}
