import type { NextFunction, Request, Response } from 'express';
import type { AuthService } from '../auth/auth-service';
import type { Principal } from '../auth/principal';
import { checkRateLimit, enforceRateLimit, isRateLimited } from '../auth/rate-limit';
import type { Config } from '../config/config';
import { FhirError, isFhirError } from '../errors/fhir-error';
import type { FhirContext } from '../fhir/context';
import { recordRefusedAuthentication } from '../fhir/request-audit';
import { createAuthFailureTrail, type AuthFailureTrail } from './auth-failures';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** The client id a refused token claimed, for the audit trail only (never trusted). */
function claimedClient(authorization: string | undefined): string | undefined {
  const token = /^Bearer\s+([A-Za-z0-9_\-.]+)$/i.exec(authorization ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { client_id?: unknown; sub?: unknown };
    const id = typeof claims.client_id === 'string' ? claims.client_id : undefined;
    return id && /^[A-Za-z0-9_\-.:]{1,128}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

const ADDRESS_REFUSAL = 'NHIS-1430';

function addressRefusal(retryAfterSeconds: number): FhirError {
  return FhirError.tooManyRequests('Too many refused authentications from this address; retry after the Retry-After delay', retryAfterSeconds, { code: ADDRESS_REFUSAL });
}

function isAddressRefusal(err: FhirError): boolean {
  return err.issues[0]?.nhisCode === ADDRESS_REFUSAL;
}

export type AuthenticateMiddleware = ((req: Request, res: Response, next: NextFunction) => Promise<void>) & {
  /** Records the pending aggregated audit of refused authentications (at shutdown). */
  flushAudit(): Promise<void>;
};

/**
 * Every request past this point carries a verified access token (default deny) and is counted
 * against its client's rate limit. Refused authentications are counted per client address
 * (AUTH_FAILURE_LIMIT_PER_MINUTE, shared by all processes): an address over its limit is
 * refused with 429 before its token is even looked at, for the rest of the minute. Refusals
 * are audited, repeated ones of the same caller as one aggregated event (./auth-failures.ts).
 */
export function authenticate(auth: AuthService, ctx: FhirContext, config: Config, trail?: AuthFailureTrail): AuthenticateMiddleware {
  const failures = trail ?? createAuthFailureTrail(ctx, (refusal) => recordRefusedAuthentication(ctx, refusal));
  const addressLimit = { limit: config.authFailureLimitPerMinute };
  const middleware = async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const addressKey = `address:${req.ip ?? 'unknown'}`;
    try {
      const blocked = isRateLimited(ctx.db, addressKey, ctx.clock.now(), addressLimit);
      if (blocked) throw addressRefusal(blocked.retryAfterSeconds);
      const principal = await auth.authenticate(req.header('authorization'));
      const key = principal.kind === 'patient' ? `patient:${principal.subject}` : principal.clientId;
      await enforceRateLimit(ctx.db, key, ctx.clock.now(), { limit: config.rateLimitPerMinute });
      req.principal = principal;
      next();
    } catch (caught) {
      let err = caught;
      if (isFhirError(err) && err.status === 401) {
        // Counted against the address (a shared counter); over the limit, this refusal is a 429 too
        // (concurrent requests passed the early check together) and the next ones are refused early.
        const counted = await checkRateLimit(ctx.db, addressKey, ctx.clock.now(), addressLimit).catch(() => undefined);
        if (counted && !counted.allowed) err = addressRefusal(counted.retryAfterSeconds);
      }
      if (isFhirError(err) && (err.status === 401 || isAddressRefusal(err))) {
        try {
          await failures.record({
            clientIp: req.ip,
            claimedClientId: claimedClient(req.header('authorization')),
            reason: err.message,
            requestId: req.requestId,
            when: ctx.clock.now(),
          });
        } catch (auditErr) {
          ctx.logger.error({ reqId: req.requestId, err: { message: (auditErr as Error).message } }, 'could not audit a refused authentication');
        }
      }
      next(err);
    }
  };
  return Object.assign(middleware, { flushAudit: () => failures.flush() });
}
