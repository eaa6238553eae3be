import express, { Request, Response, Router } from 'express';
import type { AuthService } from './auth-service';
import { JWKS_PATH, SMART_CONFIGURATION_PATH, TOKEN_PATH } from './issuer';

/**
 * The public OAuth endpoints: POST /auth/token, GET /.well-known/jwks.json,
 * GET /.well-known/smart-configuration. No token needed for these.
 */
export interface AuthRouterDeps {
  auth: AuthService;
}

const FORM_LIMIT = '32kb';

/** The form body as text, whether or not an app-wide `express.raw` already read it. */
function formOf(req: Request): URLSearchParams {
  const body: unknown = req.body;
  if (Buffer.isBuffer(body)) return new URLSearchParams(body.toString('utf8'));
  if (typeof body === 'string') return new URLSearchParams(body);
  return new URLSearchParams();
}

function sendOAuthJson(res: Response, status: number, headers: Record<string, string>, body: unknown): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.status(status).setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

export function createAuthRouter(deps: AuthRouterDeps): Router {
  const router = express.Router();
  router.post(TOKEN_PATH, express.raw({ type: () => true, limit: FORM_LIMIT }), async (req, res, next) => {
    try {
      const type = (req.header('content-type') ?? '').toLowerCase();
      if (!type.startsWith('application/x-www-form-urlencoded')) {
        return sendOAuthJson(res, 400, { 'Cache-Control': 'no-store' }, {
          error: 'invalid_request',
          error_description: 'Content-Type must be application/x-www-form-urlencoded',
        });
      }
      // Parameters belong in the body; secrets in a URL end up in logs.
      if (req.originalUrl.includes('?')) {
        return sendOAuthJson(res, 400, { 'Cache-Control': 'no-store' }, { error: 'invalid_request', error_description: 'Send parameters in the body, not the URL' });
      }
      const out = await deps.auth.handleTokenRequest(formOf(req));
      sendOAuthJson(res, out.status, out.headers, out.body);
    } catch (err) {
      next(err);
    }
  });
  router.get(JWKS_PATH, async (_req, res, next) => {
    try {
      sendOAuthJson(res, 200, { 'Cache-Control': 'public, max-age=60' }, await deps.auth.jwks());
    } catch (err) {
      next(err);
    }
  });
  router.get(SMART_CONFIGURATION_PATH, (_req, res) => {
    sendOAuthJson(res, 200, { 'Cache-Control': 'public, max-age=300' }, deps.auth.smartConfiguration());
  });
  return router;
}
