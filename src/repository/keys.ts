import { sql } from 'kysely';
import type { Db } from './db';
import type { Tx } from './transaction';

/**
 * A signing key of this server; the private half never leaves the database and the process,
 * and is sealed under the key-encryption key when one is configured (auth/key-sealing.ts).
 */
export interface AuthSigningKeyRow {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: Date | string;
}

/** A client assertion `jti` already used; kept until the assertion could no longer be valid. */
export interface AuthAssertionJtiRow {
  client_id: string;
  jti: string;
  expires_at: Date | string;
}

export type KeyTables = {
  auth_signing_key: AuthSigningKeyRow;
  auth_assertion_jti: AuthAssertionJtiRow;
};

type Executor = Db | Tx;
const on = (db: Executor) => db.withTables<KeyTables>();

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** As stored: the sealed key, or (without a key-encryption key) the JWK's JSON text. */
  privateJwk: string;
  publicJwk: Record<string, unknown>;
  createdAt: Date;
}

function toRecord(row: AuthSigningKeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    privateJwk: row.private_jwk,
    publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
    createdAt: new Date(row.created_at),
  };
}

/** Keys created after `since`, newest first. */
export async function listSigningKeysSince(db: Executor, since: Date): Promise<SigningKeyRecord[]> {
  const rows = await on(db).selectFrom('auth_signing_key').selectAll().where('created_at', '>', since).orderBy('created_at', 'desc').execute();
  return rows.map(toRecord);
}

export async function insertSigningKey(db: Executor, key: SigningKeyRecord): Promise<void> {
  await on(db)
    .insertInto('auth_signing_key')
    .values({
      kid: key.kid,
      alg: key.alg,
      private_jwk: key.privateJwk,
      public_jwk: JSON.stringify(key.publicJwk),
      created_at: key.createdAt,
    })
    .execute();
}

/** Replaces a stored private key by its sealed form, if it is still as it was read. */
export async function replacePrivateJwk(db: Executor, kid: string, from: string, to: string): Promise<void> {
  await on(db).updateTable('auth_signing_key').set({ private_jwk: to }).where('kid', '=', kid).where('private_jwk', '=', from).execute();
}

/** Removes keys that can no longer have signed a live token. */
export async function deleteSigningKeysBefore(db: Executor, before: Date): Promise<void> {
  await on(db).deleteFrom('auth_signing_key').where('created_at', '<', before).execute();
}

/**
 * Serialises key creation among processes for the rest of the transaction,
 * so that a rotation makes one key, not one per process.
 */
export async function lockSigningKeys(tx: Tx): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('opennhis.auth_signing_key'))`.execute(tx);
}

/**
 * Records a client assertion's `jti`. Returns false if this client already used
 * it: the primary key decides, so two concurrent requests cannot both win.
 */
export async function claimAssertionJti(db: Executor, clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
  const res = await on(db)
    .insertInto('auth_assertion_jti')
    .values({ client_id: clientId, jti, expires_at: expiresAt })
    .onConflict((oc) => oc.columns(['client_id', 'jti']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function purgeExpiredJtis(db: Executor, now: Date): Promise<void> {
  await on(db).deleteFrom('auth_assertion_jti').where('expires_at', '<', now).execute();
}
