import type { Db } from './db';
import type { Tx } from './transaction';

/** A registered API client (SMART Backend Services). */
export interface AuthClientRow {
  id: string;
  name: string;
  role: string;
  organization: string | null;
  /** Allowed scopes, space-separated. */
  scopes: string;
  /** Inline JWKS as JSON text. */
  jwks: string | null;
  jwks_uri: string | null;
  active: boolean;
  created_at: Date | string;
  updated_at: Date | string;
}

export type ClientTables = {
  auth_client: AuthClientRow;
};

type Executor = Db | Tx;
const on = (db: Executor) => db.withTables<ClientTables>();

export interface ClientRecord {
  id: string;
  name: string;
  role: string;
  organization?: string;
  scopes: string[];
  jwks?: { keys: Record<string, unknown>[] };
  jwksUri?: string;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type ClientInput = Omit<ClientRecord, 'createdAt' | 'updatedAt'>;

function toRecord(row: AuthClientRow): ClientRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    organization: row.organization ?? undefined,
    scopes: row.scopes.split(' ').filter(Boolean),
    jwks: row.jwks ? (JSON.parse(row.jwks) as ClientRecord['jwks']) : undefined,
    jwksUri: row.jwks_uri ?? undefined,
    active: row.active,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function toRow(input: ClientInput, now: Date) {
  return {
    id: input.id,
    name: input.name,
    role: input.role,
    organization: input.organization ?? null,
    scopes: input.scopes.join(' '),
    jwks: input.jwks ? JSON.stringify(input.jwks) : null,
    jwks_uri: input.jwksUri ?? null,
    active: input.active,
    updated_at: now,
  };
}

export async function findClient(db: Executor, id: string): Promise<ClientRecord | undefined> {
  const row = await on(db).selectFrom('auth_client').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

export async function listClients(db: Executor): Promise<ClientRecord[]> {
  const rows = await on(db).selectFrom('auth_client').selectAll().orderBy('id').execute();
  return rows.map(toRecord);
}

/** Inserts a new client; false when the id is taken. */
export async function insertClient(db: Executor, input: ClientInput, now: Date): Promise<boolean> {
  const res = await on(db)
    .insertInto('auth_client')
    .values({ ...toRow(input, now), created_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Replaces a client's registration; false when it does not exist. */
export async function updateClient(db: Executor, input: ClientInput, now: Date): Promise<boolean> {
  const res = await on(db).updateTable('auth_client').set(toRow(input, now)).where('id', '=', input.id).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Creates or replaces (used for development clients). */
export async function upsertClient(db: Executor, input: ClientInput, now: Date): Promise<void> {
  const row = toRow(input, now);
  await on(db)
    .insertInto('auth_client')
    .values({ ...row, created_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet(row))
    .execute();
}

export async function setClientActive(db: Executor, id: string, active: boolean, now: Date): Promise<boolean> {
  const res = await on(db).updateTable('auth_client').set({ active, updated_at: now }).where('id', '=', id).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
