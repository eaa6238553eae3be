import { FhirError } from '../errors/fhir-error';

/**
 * Raw driver errors never cross the repository: connection loss and pool
 * exhaustion become 503 with Retry-After; the rest are rethrown as they are
 * (and end up as a 500 with a correlation id, because they are bugs).
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300', '53400']);
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isRetryable(err: unknown): boolean {
  const code = sqlState(err);
  return code === '40001' || code === '40P01';
}

export function isUnavailable(err: unknown): boolean {
  const code = sqlState(err);
  if (code && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_NODE_CODES.has(code))) return true;
  const message = err instanceof Error ? err.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|terminating connection|the database system is (starting up|shutting down)/i.test(
    message,
  );
}

/** 503s that stand for an unreachable database or an exhausted pool (see isDatabaseUnavailable). */
const unavailableErrors = new WeakSet<object>();

/**
 * Whether `err` (raw or already mapped) says the database cannot be reached or no pooled
 * connection could be had: then any further database work for the same request would wait
 * as long again (a refusal's audit goes to the local spool instead).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  return (typeof err === 'object' && err !== null && unavailableErrors.has(err)) || (!(err instanceof FhirError) && isUnavailable(err));
}

/** statement_timeout (57014, query_canceled) and lock_timeout (55P03): the per-request bounds on database work. */
export function isTimeout(err: unknown): boolean {
  const code = sqlState(err);
  return code === '57014' || code === '55P03';
}

export function mapDriverError(err: unknown): unknown {
  if (err instanceof FhirError) return err;
  if (isUnavailable(err)) {
    const mapped = FhirError.unavailable('The database is unavailable; retry shortly');
    unavailableErrors.add(mapped);
    return mapped;
  }
  if (sqlState(err) === '55P03') return FhirError.unavailable('Waited too long for a lock held by other work; retry shortly', { code: 'NHIS-1504' });
  if (sqlState(err) === '57014') return FhirError.unavailable('The database took too long to answer; retry shortly', { code: 'NHIS-1504' });
  // Still conflicting after the bounded retries in inTransaction: nothing was stored; the client may retry.
  if (isRetryable(err)) return FhirError.unavailable('Concurrent updates conflicted; nothing was stored, retry shortly');
  return err;
}
