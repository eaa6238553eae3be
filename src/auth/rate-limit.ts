import { FhirError } from '../errors/fhir-error';
import type { Db } from '../repository/db';
import { deleteWindowsBefore, incrementWindow } from '../repository/rate-limit';

/**
 * Per-client fixed-window rate limit; the counter lives in PostgreSQL so the
 * limit holds across server processes.
 */
export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets (the Retry-After of a 429). */
  retryAfterSeconds: number;
}

export interface RateLimitOptions {
  /** Requests per window; 0 or less disables the limit. */
  limit: number;
  windowSeconds?: number;
}

/**
 * Quota claimed from the shared counter in blocks, so most requests touch no database: a
 * process takes `block` requests at once and serves them from memory. Far from the limit a
 * block is 1% of it; a small limit (under 200) is counted exactly, one request at a time.
 * The cost: a process may hold up to one unused block per client when another process hits
 * the limit, so a client can be refused that many requests early, never allowed more.
 *
 * One claim per client is in flight in a process at a time: requests that find the held
 * quota spent wait for that claim and share what it brings, rather than each claiming a block
 * and overwriting the others' (which refused most requests under concurrency). Once the
 * shared counter shows the window spent, the process refuses the client's requests until the
 * window ends without asking the database again.
 */
interface HeldQuota {
  window: number;
  left: number;
  /** The shared counter after this process's last claim. */
  counted: number;
  /** The window's limit is reached (per the shared counter). */
  spent: boolean;
  claiming?: Promise<void>;
}
const held = new WeakMap<object, Map<string, HeldQuota>>();

function quotaOf(db: Db, key: string, window: number): HeldQuota {
  let perDb = held.get(db);
  if (!perDb) held.set(db, (perDb = new Map()));
  let quota = perDb.get(key);
  if (!quota || quota.window !== window) {
    // A new window: the previous one's state (and its entry) is dropped.
    quota = { window, left: 0, counted: 0, spent: false };
    perDb.set(key, quota);
  }
  return quota;
}

function windowOf(now: Date, opts: RateLimitOptions): { start: number; retryAfterSeconds: number } {
  const windowMs = (opts.windowSeconds ?? 60) * 1000;
  const start = Math.floor(now.getTime() / windowMs) * windowMs;
  return { start, retryAfterSeconds: Math.max(1, Math.ceil((start + windowMs - now.getTime()) / 1000)) };
}

async function claimBlock(db: Db, key: string, quota: HeldQuota, limit: number): Promise<void> {
  const block = Math.max(1, Math.floor(limit / 100));
  const count = await incrementWindow(db, key, new Date(quota.window), block);
  // The first claim of a window tidies the client's older windows.
  if (count === block) await deleteWindowsBefore(db, key, new Date(quota.window));
  const granted = Math.max(0, Math.min(block, limit - (count - block)));
  quota.counted = Math.max(quota.counted, count);
  quota.left += granted;
  if (count >= limit) quota.spent = true;
}

export async function checkRateLimit(db: Db, clientId: string, now: Date, opts: RateLimitOptions): Promise<RateLimitResult> {
  if (opts.limit <= 0) return { allowed: true, limit: 0, remaining: Number.MAX_SAFE_INTEGER, retryAfterSeconds: 0 };
  const { start, retryAfterSeconds } = windowOf(now, opts);
  const quota = quotaOf(db, clientId, start);
  for (;;) {
    if (quota.left > 0) {
      quota.left--;
      return { allowed: true, limit: opts.limit, remaining: Math.max(0, opts.limit - quota.counted) + quota.left, retryAfterSeconds };
    }
    if (quota.spent) return { allowed: false, limit: opts.limit, remaining: 0, retryAfterSeconds };
    if (!quota.claiming) {
      quota.claiming = claimBlock(db, clientId, quota, opts.limit).finally(() => {
        quota.claiming = undefined;
      });
    }
    await quota.claiming;
  }
}

/**
 * Whether `key` has spent its window in this process, without counting a request (a check
 * made before the work whose failures are counted, e.g. authentication by client address).
 */
export function isRateLimited(db: Db, key: string, now: Date, opts: RateLimitOptions): RateLimitResult | undefined {
  if (opts.limit <= 0) return undefined;
  const { start, retryAfterSeconds } = windowOf(now, opts);
  const quota = held.get(db)?.get(key);
  if (!quota || quota.window !== start || !quota.spent || quota.left > 0) return undefined;
  return { allowed: false, limit: opts.limit, remaining: 0, retryAfterSeconds };
}

/** Throws the 429 (with Retry-After) when the client is over its limit. */
export async function enforceRateLimit(db: Db, clientId: string, now: Date, opts: RateLimitOptions): Promise<RateLimitResult> {
  const result = await checkRateLimit(db, clientId, now, opts);
  if (!result.allowed) {
    throw FhirError.tooManyRequests(`Rate limit of ${result.limit} requests per ${opts.windowSeconds ?? 60} s exceeded; retry later`, result.retryAfterSeconds);
  }
  return result;
}
