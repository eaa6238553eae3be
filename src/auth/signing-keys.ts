import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike } from 'jose';
import type { Db } from '../repository/db';
import { deleteSigningKeysBefore, insertSigningKey, listSigningKeysSince, lockSigningKeys, replacePrivateJwk, type SigningKeyRecord } from '../repository/keys';
import { inTransaction } from '../repository/transaction';
import type { Clock } from '../shared/clock';
import { isSealed, openPrivateJwk, sealPrivateJwk } from './key-sealing';

/** Longest access-token lifetime the config allows; keys stay published at least this long after their last use. */
export const MAX_TOKEN_TTL_SECONDS = 900;
/** With development credentials (never in production) the development clients' tokens may live this long. */
export const MAX_DEVELOPMENT_TOKEN_TTL_SECONDS = 24 * 3600;
const PUBLISH_MARGIN_SECONDS = 120;
/** How long this process trusts its view of the key table before reading it again. */
const CACHE_SECONDS = 30;
/** An unknown `kid` reloads the table at most this often (a forged kid must not become a query flood). */
const MISS_RELOAD_SECONDS = 2;

export type SigningAlg = 'ES384' | 'RS384';

export interface ActiveSigningKey {
  kid: string;
  alg: SigningAlg;
  key: KeyLike | Uint8Array;
}

export interface SigningKeyStore {
  /** The key to sign with now; makes a new one when the newest is older than the rotation age. */
  current(): Promise<ActiveSigningKey>;
  /** Public key by `kid` among the published ones, or undefined. */
  publicKey(kid: string, alg: string): Promise<KeyLike | Uint8Array | undefined>;
  /** Public JWKS: every key that may have signed a token that has not expired yet. */
  jwks(): Promise<{ keys: JWK[] }>;
}

export interface SigningKeyStoreOptions {
  db: Db;
  clock: Clock;
  alg: SigningAlg;
  rotationSeconds: number;
  /** Longest lifetime of a token signed by these keys (default MAX_TOKEN_TTL_SECONDS): keys stay published that long. */
  maxTokenTtlSeconds?: number;
  /** Seals private keys at rest (config.keyEncryptionKey); undefined stores them as plain JWK text. */
  keyEncryptionKey: Buffer | undefined;
}

/** Stored JWK text parsed back; the row was written by `generateSigningKey`. */
function asJwk(stored: Record<string, unknown>): JWK {
  return stored as unknown as JWK;
}

export async function generateSigningKey(alg: SigningAlg, createdAt: Date, keyEncryptionKey: Buffer | undefined): Promise<SigningKeyRecord> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 3072 });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  const meta = { kid, alg, use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), ...meta };
  const stored = keyEncryptionKey ? sealPrivateJwk(privateJwk, kid, keyEncryptionKey) : JSON.stringify(privateJwk);
  return { kid, alg, privateJwk: stored, publicJwk: { ...publicJwk, ...meta }, createdAt };
}

/**
 * Signing keys live in PostgreSQL, so every server process signs with and
 * publishes the same keys. Rotation: a key signs for `rotationSeconds`, then a
 * new one takes over; the old public key stays published until every token it
 * could have signed has expired, then the row is deleted.
 */
export function createSigningKeyStore(opts: SigningKeyStoreOptions): SigningKeyStore {
  const { db, clock, alg, rotationSeconds, keyEncryptionKey } = opts;
  let cache: { loadedAt: number; keys: SigningKeyRecord[] } | undefined;
  let lastMissReload = 0;
  const imported = new Map<string, Promise<KeyLike | Uint8Array>>();

  const publishedSince = (now: Date) => new Date(now.getTime() - (rotationSeconds + (opts.maxTokenTtlSeconds ?? MAX_TOKEN_TTL_SECONDS) + PUBLISH_MARGIN_SECONDS) * 1000);
  // Rows are deleted only once no store's tokens can need them: another store over the same table (receipts,
  // a process with development credentials) may publish keys longer than this one.
  const deletableBefore = (now: Date) => new Date(now.getTime() - (rotationSeconds + MAX_DEVELOPMENT_TOKEN_TTL_SECONDS + PUBLISH_MARGIN_SECONDS) * 1000);
  // A key this process cannot open (sealed under another key-encryption key) still verifies, never signs.
  const canSign = (k: SigningKeyRecord) => !isSealed(k.privateJwk) || openPrivateJwk(k.privateJwk, k.kid, keyEncryptionKey) !== undefined;
  const isCurrent = (k: SigningKeyRecord, now: Date) => k.alg === alg && now.getTime() - k.createdAt.getTime() < rotationSeconds * 1000 && canSign(k);

  async function load(now: Date): Promise<SigningKeyRecord[]> {
    const keys = await listSigningKeysSince(db, publishedSince(now));
    // Keys written before a key-encryption key was configured are sealed on first sight.
    if (keyEncryptionKey) {
      for (const k of keys) {
        if (isSealed(k.privateJwk)) continue;
        const sealed = sealPrivateJwk(JSON.parse(k.privateJwk) as JWK, k.kid, keyEncryptionKey);
        await replacePrivateJwk(db, k.kid, k.privateJwk, sealed);
        k.privateJwk = sealed;
      }
    }
    cache = { loadedAt: now.getTime(), keys };
    return keys;
  }

  async function keys(now: Date): Promise<SigningKeyRecord[]> {
    if (cache && now.getTime() - cache.loadedAt < CACHE_SECONDS * 1000 && now.getTime() >= cache.loadedAt) return cache.keys;
    return load(now);
  }

  async function rotate(now: Date): Promise<SigningKeyRecord> {
    const made = await inTransaction(db, async (tx) => {
      await lockSigningKeys(tx);
      const existing = (await listSigningKeysSince(tx, publishedSince(now))).find((k) => isCurrent(k, now));
      if (existing) return existing;
      const key = await generateSigningKey(alg, now, keyEncryptionKey);
      await insertSigningKey(tx, key);
      await deleteSigningKeysBefore(tx, deletableBefore(now));
      return key;
    });
    await load(now);
    return made;
  }

  function importKey(record: SigningKeyRecord, half: 'private' | 'public'): Promise<KeyLike | Uint8Array> {
    const cacheKey = `${half}:${record.kid}`;
    let p = imported.get(cacheKey);
    if (!p) {
      const jwk = half === 'private' ? openPrivateJwk(record.privateJwk, record.kid, keyEncryptionKey) : asJwk(record.publicJwk);
      if (!jwk) return Promise.reject(new Error(`signing key ${record.kid} cannot be opened with this KEY_ENCRYPTION_KEY`));
      p = importJWK(jwk, record.alg);
      imported.set(cacheKey, p);
    }
    return p;
  }

  return {
    async current() {
      const now = clock.now();
      const record = (await keys(now)).find((k) => isCurrent(k, now)) ?? (await rotate(now));
      return { kid: record.kid, alg: record.alg as SigningAlg, key: await importKey(record, 'private') };
    },
    async publicKey(kid, tokenAlg) {
      const now = clock.now();
      let record = (await keys(now)).find((k) => k.kid === kid);
      if (!record && now.getTime() - lastMissReload > MISS_RELOAD_SECONDS * 1000) {
        lastMissReload = now.getTime();
        record = (await load(now)).find((k) => k.kid === kid);
      }
      if (!record || record.alg !== tokenAlg) return undefined;
      return importKey(record, 'public');
    },
    async jwks() {
      const now = clock.now();
      if (!(await keys(now)).some((k) => isCurrent(k, now))) await rotate(now);
      return { keys: (await keys(now)).map((k) => asJwk(k.publicJwk)) };
    },
  };
}
