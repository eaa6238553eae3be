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

export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  (req.path === '/docs' || req.path.startsWith('/docs/') ? docs : api)(req, res, next);
}
