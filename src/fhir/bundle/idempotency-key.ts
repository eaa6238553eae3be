// Idempotent resubmission with the `Idempotency-Key` header
// (https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/).
import { createHash, randomUUID } from 'node:crypto';
import { FhirError } from '../../errors/fhir-error';
import { outcomeFromError } from '../../errors/operation-outcome';
import { isDatabaseUnavailable, mapDriverError } from '../../store/errors';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey, renewIdempotencyKey, type Db, type IdempotencyRow } from '../../store/idempotency';
import type { Tx } from '../../store/transaction';
import { stringifyJson } from '../../shared/json';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';

/**
 * An unanswered claim whose lease has run out is taken to be from a dead owner (its process or
 * its database connection died) and is taken over by the next retry. The owner renews the lease
 * every third of it while its handler runs, so only a dead owner's claim runs out; a retry waits
 * at most this long after a crash (was 10 minutes, without renewal).
 */
const CLAIM_LEASE_MS = 10_000;
const RENEW_EVERY_MS = CLAIM_LEASE_MS / 3;
/** How long a retry waits for a concurrent twin before answering 409. */
const WAIT_FOR_TWIN_MS = 15_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** Headers that change what the request does, so they belong to its fingerprint. */
const FINGERPRINT_HEADERS = ['if-none-exist', 'if-match', 'prefer'];

/** The claim a handler may settle inside its own write transaction (one commit for data and answer). */
export interface IdempotencyClaim {
  /** Stores the answer; false when the claim is no longer ours (then roll back). */
  complete(executor: Db | Tx, response: FhirResponse): Promise<boolean>;
}

export type IdempotentHandler = (ctx: FhirContext, req: FhirRequest, claim?: IdempotencyClaim) => Promise<FhirResponse>;

/**
 * Keys are scoped to the client, method and path, e.g. `hospital-1 POST /Patient`: a stored answer
 * holds data, and is replayed only to the client whose request made it.
 */
export function defaultScope(req: FhirRequest): string {
  const client = req.principal ? `${req.principal.clientId}${req.principal.kind === 'patient' ? `:${req.principal.subject}` : ''} ` : '';
  return `${client}${req.method} /${req.params.type ?? ''}`;
}

function fingerprint(req: FhirRequest, scope: string): string {
  const hash = createHash('sha256');
  hash.update(scope).update('\n').update(req.query.toString()).update('\n');
  for (const h of FINGERPRINT_HEADERS) hash.update(`${h}:${req.headers[h] ?? ''}\n`);
  hash.update(req.body === undefined ? '' : stringifyJson(req.body));
  return hash.digest('hex');
}

function toStored(response: FhirResponse): { status: number; headers: string; body: string | null } {
  const body = response.rawBody ?? (response.body !== undefined ? stringifyJson(response.body) : null);
  return { status: response.status, headers: JSON.stringify(response.headers ?? {}), body };
}

function replay(row: IdempotencyRow): FhirResponse {
  const headers = { ...(JSON.parse(row.headers ?? '{}') as Record<string, string>), 'Idempotency-Replayed': 'true' };
  return { status: row.status!, headers, rawBody: row.body ?? undefined };
}

/**
 * Wraps a handler: the first request with a key runs and its answer (status,
 * headers, body) is stored for `idempotencyTtlHours`; a retry with the same key
 * and the same request gets that answer without running again; the same key
 * with a different request is 422. The row's primary key is the lock, so this
 * holds across processes. 5xx answers are not stored: the retry runs again.
 */
export function idempotent(handler: IdempotentHandler, scopeOf: (req: FhirRequest) => string = defaultScope): IdempotentHandler {
  return async (ctx, req) => {
    const key = req.headers['idempotency-key'];
    if (key === undefined) return handler(ctx, req);
    if (!KEY_PATTERN.test(key)) {
      throw FhirError.badRequest('Idempotency-Key must be 1-255 visible ASCII characters', { code: 'NHIS-1620' });
    }
    const scope = scopeOf(req);
    const requestHash = fingerprint(req, scope);
    const token = randomUUID();
    const deadline = Date.now() + WAIT_FOR_TWIN_MS;
    for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
      const now = ctx.clock.now();
      const row = await claimIdempotencyKey(ctx.db, {
        scope,
        key,
        requestHash,
        claimToken: token,
        now,
        leaseUntil: new Date(now.getTime() + CLAIM_LEASE_MS),
        expiresAt: new Date(now.getTime() + ctx.config.idempotencyTtlHours * 3_600_000),
      });
      if (row.requestHash !== requestHash) {
        throw FhirError.unprocessable(`Idempotency-Key '${key}' was already used for a different request to ${scope}`, { code: 'NHIS-1621' });
      }
      if (row.claimToken === token) break;
      if (row.status !== null) return replay(row);
      if (Date.now() > deadline) {
        throw FhirError.conflict(`A request with Idempotency-Key '${key}' is still being processed; retry later`, {
          code: 'NHIS-1622',
          headers: { 'Retry-After': '2' },
        });
      }
      await new Promise((r) => setTimeout(r, wait));
    }

    const claim: IdempotencyClaim = {
      complete: (executor, response) => completeIdempotencyKey(executor, scope, key, token, toStored(response)),
    };
    const release = (cause?: unknown) => releaseSoon(ctx, scope, key, token, isDatabaseUnavailable(cause));
    const renewal = setInterval(() => {
      renewIdempotencyKey(ctx.db, scope, key, token, new Date(ctx.clock.now().getTime() + CLAIM_LEASE_MS)).catch((err: Error) =>
        ctx.logger.debug({ reqId: req.requestId, err: { message: err.message } }, 'could not renew an Idempotency-Key claim'),
      );
    }, RENEW_EVERY_MS);
    renewal.unref();
    let response: FhirResponse;
    try {
      response = await handler(ctx, req, claim);
    } catch (err) {
      clearInterval(renewal);
      const mapped = mapDriverError(err);
      if (mapped instanceof FhirError && mapped.status < 500) {
        // A client error is the answer to this request: replay it too.
        await claim.complete(ctx.db, { status: mapped.status, headers: mapped.headers, body: outcomeFromError(mapped) }).catch(() => undefined);
      } else {
        await release(err);
      }
      throw err;
    }
    clearInterval(renewal);
    // No-op when the handler already stored the answer inside its transaction.
    if (response.status < 500) await claim.complete(ctx.db, response);
    else await release();
    return response;
  };
}

/**
 * Gives up a failed request's claim so that its retry runs at once. When the database cannot
 * be reached (the usual cause of the failure), the release is tried in the background, again
 * and again until it succeeds or the lease has run out anyway, so that the 503 does not wait
 * for a connection a second time.
 */
async function releaseSoon(ctx: FhirContext, scope: string, key: string, token: string, databaseUnavailable: boolean): Promise<void> {
  const giveUpAt = Date.now() + CLAIM_LEASE_MS;
  const attempt = (): Promise<void> =>
    releaseIdempotencyKey(ctx.db, scope, key, token).catch(() => {
      if (Date.now() >= giveUpAt) return;
      setTimeout(() => void attempt(), 500).unref();
    });
  if (databaseUnavailable) void attempt();
  else await attempt();
}
