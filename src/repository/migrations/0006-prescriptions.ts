import { Kysely, sql } from 'kysely';

/**
 * The ePrescription workflow state (issue 7). `prescription` is the one row
 * every state change is a compare-and-set UPDATE on; the CHECK constraints are
 * the last line of defence against dispensing more than was prescribed.
 * `prescription_event` is the timeline; `prescription_server_key` holds the
 * HMAC key claim secrets are derived from, shared by every server process.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create sequence prescription_number_seq minvalue 1 maxvalue 99999999 cycle`.execute(db);
  await sql`
    create table prescription (
      task_id text primary key,
      medication_request_id text not null unique,
      number text not null unique,
      patient_id text not null,
      group_id text,
      atc_code text,
      prescriber_org text,
      prescriber_client text,
      state text not null check (state in ('ready', 'in-progress', 'completed', 'cancelled', 'expired')),
      quantity_per_fill numeric not null check (quantity_per_fill > 0),
      quantity_prescribed numeric not null,
      quantity_dispensed numeric not null default 0,
      claim_dispensed numeric not null default 0,
      fills_allowed integer not null check (fills_allowed >= 1),
      fills_used integer not null default 0,
      validity_end timestamptz not null,
      access_code_hash text not null,
      claim_counter integer not null default 0,
      owner_org text,
      owner_client text,
      lease_expires_at timestamptz,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      constraint prescription_dispensed_max check (quantity_dispensed >= 0 and quantity_dispensed <= quantity_prescribed),
      constraint prescription_claim_max check (claim_dispensed >= 0 and claim_dispensed <= quantity_per_fill),
      constraint prescription_fills_max check (fills_used >= 0 and fills_used <= fills_allowed),
      constraint prescription_claim_owner check (state <> 'in-progress' or (owner_org is not null and lease_expires_at is not null))
    )`.execute(db);
  await sql`create index prescription_patient_active on prescription (patient_id) where state in ('ready', 'in-progress')`.execute(db);
  await sql`create index prescription_validity_open on prescription (validity_end) where state in ('ready', 'in-progress')`.execute(db);
  await sql`create index prescription_lease_open on prescription (lease_expires_at) where state = 'in-progress'`.execute(db);
  await sql`
    create table prescription_event (
      seq bigserial primary key,
      task_id text not null,
      medication_request_id text not null,
      at timestamptz not null,
      action text not null,
      from_state text,
      to_state text not null,
      actor_client text,
      actor_org text,
      actor_role text,
      reason text,
      detail text
    )`.execute(db);
  await sql`create index prescription_event_mr on prescription_event (medication_request_id, seq)`.execute(db);
  await sql`create table prescription_server_key (id integer primary key check (id = 1), key text not null)`.execute(db);
}
