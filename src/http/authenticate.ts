import type { NextFunction, Request, Response } from 'express';
import type { AuthService } from '../auth/auth-service';
import type { Principal } from '../auth/principal';
import { enforceRateLimit } from '../auth/rate-limit';
import type { Config } from '../config/config';
import { isFhirError } from '../errors/fhir-error';
import type { FhirContext } from '../fhir/context';
import { recordRefusedAuthentication } from '../fhir/request-audit';

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

/**
 * Every request past this point carries a verified access token (default
 * deny), is counted against its client's rate limit, and a refusal is audited.
 */
export function authenticate(auth: AuthService, ctx: FhirContext, config: Config) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    try {
      const principal = await auth.authenticate(req.header('authorization'));
      const key = principal.kind === 'patient' ? `patient:${principal.subject}` : principal.clientId;
      await enforceRateLimit(ctx.db, key, ctx.clock.now(), { limit: config.rateLimitPerMinute });
      req.principal = principal;
      next();
    } catch (err) {
      if (isFhirError(err) && err.status === 401) {
        try {
          await recordRefusedAuthentication(ctx, { claimedClientId: claimedClient(req.header('authorization')), reason: err.message, requestId: req.requestId, clientIp: req.ip });
        } catch (auditErr) {
          ctx.logger.error({ reqId: req.requestId, err: { message: (auditErr as Error).message } }, 'could not audit a refused authentication');
        }
      }
      next(err);
    }
  };
}
