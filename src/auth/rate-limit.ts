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

export async function checkRateLimit(db: Db, clientId: string, now: Date, opts: RateLimitOptions): Promise<RateLimitResult> {
  const windowMs = (opts.windowSeconds ?? 60) * 1000;
  if (opts.limit <= 0) return { allowed: true, limit: 0, remaining: Number.MAX_SAFE_INTEGER, retryAfterSeconds: 0 };
  const start = Math.floor(now.getTime() / windowMs) * windowMs;
  const count = await incrementWindow(db, clientId, new Date(start));
  // The first request of a window tidies the client's older windows.
  if (count === 1) await deleteWindowsBefore(db, clientId, new Date(start));
  const retryAfterSeconds = Math.max(1, Math.ceil((start + windowMs - now.getTime()) / 1000));
  return { allowed: count <= opts.limit, limit: opts.limit, remaining: Math.max(0, opts.limit - count), retryAfterSeconds };
}

/** Throws the 429 (with Retry-After) when the client is over its limit. */
export async function enforceRateLimit(db: Db, clientId: string, now: Date, opts: RateLimitOptions): Promise<RateLimitResult> {
  const result = await checkRateLimit(db, clientId, now, opts);
  if (!result.allowed) {
    throw FhirError.tooManyRequests(`Rate limit of ${result.limit} requests per ${opts.windowSeconds ?? 60} s exceeded; retry later`, result.retryAfterSeconds);
  }
  return result;
}
