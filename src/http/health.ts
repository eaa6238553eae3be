import { Router } from 'express';

/** Liveness says the process answers; readiness says the database does too (`ping`, wired in app.ts). */
export function healthRoutes(ping: () => Promise<void>, isShuttingDown: () => boolean): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (isShuttingDown()) {
      res.status(503).setHeader('Retry-After', '1').json({ status: 'shutting-down' });
      return;
    }
    try {
      await Promise.race([ping(), new Promise((_r, reject) => setTimeout(() => reject(new Error('timeout')), 2000))]);
      res.json({ status: 'ready' });
    } catch {
      res.status(503).setHeader('Retry-After', '1').json({ status: 'database-unavailable' });
    }
  });
  return router;
}
