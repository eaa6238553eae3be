import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

/**
 * Security headers (helmet). API answers are JSON and never framed or scripted: the strictest
 * policy. The API docs page (Swagger UI) loads its own scripts and styles, so it gets 'self'.
 */
const api = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  crossOriginResourcePolicy: { policy: 'same-site' },
});
const docs = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      // Swagger UI sets inline styles on its elements.
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      frameAncestors: ["'none'"],
    },
  },
});

/**
 * Nothing this server answers may be kept by a browser or a shared cache unless its route says
 * so (the public JWKS and SMART configuration do): answers carry health data, tokens or refusals
 * about them. The docs page's static files are the exception.
 */
export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  const isDocs = req.path === '/docs' || req.path.startsWith('/docs/');
  if (!isDocs) res.setHeader('Cache-Control', 'no-store');
  (isDocs ? docs : api)(req, res, next);
}
