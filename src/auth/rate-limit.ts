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
 */
interface HeldQuota {
  window: number;
  left: number;
}
const held = new WeakMap<object, Map<string, HeldQuota>>();

export async function checkRateLimit(db: Db, clientId: string, now: Date, opts: RateLimitOptions): Promise<RateLimitResult> {
  const windowMs = (opts.windowSeconds ?? 60) * 1000;
  if (opts.limit <= 0) return { allowed: true, limit: 0, remaining: Number.MAX_SAFE_INTEGER, retryAfterSeconds: 0 };
  const start = Math.floor(now.getTime() / windowMs) * windowMs;
  const retryAfterSeconds = Math.max(1, Math.ceil((start + windowMs - now.getTime()) / 1000));
  let perDb = held.get(db);
  if (!perDb) held.set(db, (perDb = new Map()));
  const quota = perDb.get(clientId);
  if (quota && quota.window === start && quota.left > 0) {
    quota.left--;
    return { allowed: true, limit: opts.limit, remaining: quota.left, retryAfterSeconds };
  }
  const block = Math.max(1, Math.floor(opts.limit / 100));
  const count = await incrementWindow(db, clientId, new Date(start), block);
  // The first claim of a window tidies the client's older windows.
  if (count === block) await deleteWindowsBefore(db, clientId, new Date(start));
  const granted = Math.max(0, Math.min(block, opts.limit - (count - block)));
  if (granted === 0) {
    perDb.delete(clientId);
    return { allowed: false, limit: opts.limit, remaining: 0, retryAfterSeconds };
  }
  perDb.set(clientId, { window: start, left: granted - 1 });
  return { allowed: true, limit: opts.limit, remaining: Math.max(0, opts.limit - count) + granted - 1, retryAfterSeconds };
}

/** Throws the 429 (with Retry-After) when the client is over its limit. */
export async function enforceRateLimit(db: Db, clientId: string, now: Date, opts: RateLimitOptions): Promise<RateLimitResult> {
  const result = await checkRateLimit(db, clientId, now, opts);
  if (!result.allowed) {
    throw FhirError.tooManyRequests(`Rate limit of ${result.limit} requests per ${opts.windowSeconds ?? 60} s exceeded; retry later`, result.retryAfterSeconds);
  }
  return result;
}
