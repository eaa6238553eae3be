import { sql } from 'kysely';
import type { Db } from './db';
import type { Tx } from './transaction';
import { guarded } from './transaction';

/**
 * Stored answers to requests sent with an `Idempotency-Key`. The primary key
 * (scope, key) is the only synchronisation: whichever process inserts the row
 * owns the request; everyone else reads the row. The owner renews a short lease while
 * it works, so a claim whose owner died (process or database crash) is taken over soon
 * after; an expired row is reused.
 */
export interface IdempotencyRow {
  scope: string;
  key: string;
  requestHash: string;
  claimToken: string;
  leaseUntil: Date;
  /** Null while the owner is still working. */
  status: number | null;
  headers: string | null;
  body: string | null;
  expiresAt: Date;
}

export interface ClaimInput {
  scope: string;
  key: string;
  requestHash: string;
  claimToken: string;
  now: Date;
  leaseUntil: Date;
  expiresAt: Date;
}

export interface StoredAnswer {
  status: number;
  headers: string;
  body: string | null;
}

type Executor = Db | Tx;

interface RawRow {
  scope: string;
  key: string;
  request_hash: string;
  claim_token: string;
  lease_until: Date | string;
  status: number | null;
  headers: string | null;
  body: string | null;
  expires_at: Date | string;
}

const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

/** Claims the key; returns the row as it stands afterwards (ours if `claimToken` matches). */
export async function claimIdempotencyKey(db: Executor, c: ClaimInput): Promise<IdempotencyRow> {
  // The row can be released (deleted) between the upsert that found it and the read: then claim again.
  for (let attempt = 1; ; attempt++) {
    const row = await tryClaim(db, c);
    if (row) return row;
    if (attempt === 3) throw new Error(`idempotency key ${c.scope} ${c.key} vanished while claiming it`);
  }
}

async function tryClaim(db: Executor, c: ClaimInput): Promise<IdempotencyRow | undefined> {
  return guarded(async () => {
    const { rows } = await sql<RawRow>`
      insert into idempotency_key (scope, key, request_hash, claim_token, lease_until, created_at, expires_at)
      values (${c.scope}, ${c.key}, ${c.requestHash}, ${c.claimToken}, ${c.leaseUntil}, ${c.now}, ${c.expiresAt})
      on conflict (scope, key) do update set
        request_hash = excluded.request_hash, claim_token = excluded.claim_token, lease_until = excluded.lease_until,
        status = null, headers = null, body = null, created_at = excluded.created_at, expires_at = excluded.expires_at
      where idempotency_key.expires_at < excluded.created_at
         or (idempotency_key.status is null and idempotency_key.lease_until < excluded.created_at
             and idempotency_key.request_hash = excluded.request_hash)
      returning *`.execute(db);
    if (rows[0]) return toRow(rows[0]);
    return readIdempotencyKey(db, c.scope, c.key);
  });
}

export async function readIdempotencyKey(db: Executor, scope: string, key: string): Promise<IdempotencyRow | undefined> {
  return guarded(async () => {
    const { rows } = await sql<RawRow>`select * from idempotency_key where scope = ${scope} and key = ${key}`.execute(db);
    return rows[0] && toRow(rows[0]);
  });
}

/**
 * Stores the answer, if the claim is still ours and unanswered. Run it inside
 * the write transaction to make "stored data" and "stored answer" one commit.
 */
export async function completeIdempotencyKey(db: Executor, scope: string, key: string, claimToken: string, answer: StoredAnswer): Promise<boolean> {
  const { rows } = await sql<{ key: string }>`
    update idempotency_key set status = ${answer.status}, headers = ${answer.headers}, body = ${answer.body}
    where scope = ${scope} and key = ${key} and claim_token = ${claimToken} and status is null
    returning key`.execute(db);
  return rows.length === 1;
}

/**
 * Extends the lease of an unanswered claim that is still ours (the owner is alive and working);
 * false when it is not ours any more.
 */
export async function renewIdempotencyKey(db: Executor, scope: string, key: string, claimToken: string, leaseUntil: Date): Promise<boolean> {
  return guarded(async () => {
    const { rows } = await sql<{ key: string }>`
      update idempotency_key set lease_until = ${leaseUntil}
      where scope = ${scope} and key = ${key} and claim_token = ${claimToken} and status is null
      returning key`.execute(db);
    return rows.length === 1;
  });
}

/** Gives up an unanswered claim (e.g. after a 5xx) so a retry runs afresh. */
export async function releaseIdempotencyKey(db: Executor, scope: string, key: string, claimToken: string): Promise<void> {
  await guarded(() => sql`delete from idempotency_key where scope = ${scope} and key = ${key} and claim_token = ${claimToken} and status is null`.execute(db));
}

export async function purgeExpiredIdempotencyKeys(db: Executor, now: Date): Promise<number> {
  return guarded(async () => {
    const result = await sql`delete from idempotency_key where expires_at < ${now}`.execute(db);
    return Number(result.numAffectedRows ?? 0);
  });
}

function toRow(r: RawRow): IdempotencyRow {
  return {
    scope: r.scope,
    key: r.key,
    requestHash: r.request_hash,
    claimToken: r.claim_token,
    leaseUntil: toDate(r.lease_until),
    status: r.status,
    headers: r.headers,
    body: r.body,
    expiresAt: toDate(r.expires_at),
  };
}
