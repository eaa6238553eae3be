import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

/**
 * One structured line per request. Only the path is logged, never the query
 * string (it can carry national ids) nor bodies or headers (health data, tokens).
 */
export function accessLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const level = res.statusCode >= 500 ? 'error' : 'info';
      logger[level]({ reqId: req.requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
