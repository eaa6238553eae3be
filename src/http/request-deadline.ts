import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { FhirError } from '../errors/fhir-error';
import { outcomeFromError } from '../errors/operation-outcome';
import { sendJson } from './send';

function isRead(req: Request): boolean {
  return req.method === 'GET' || req.method === 'HEAD' || (req.method === 'POST' && /\/_search$/.test(req.path));
}

/**
 * The deadline of a read: not answered after `ms`, it is answered 503 with Retry-After, and
 * whatever its handler sends later is dropped. Writes are not cut short: a 503 would tell the
 * client to retry a write that may still commit; the statement and lock bounds of the database
 * (DB_STATEMENT_TIMEOUT_MS, DB_LOCK_TIMEOUT_MS) end them instead.
 */
export function requestDeadline(ms: number, logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (ms <= 0 || !isRead(req)) return next();
    const timer = setTimeout(() => {
      if (res.headersSent || res.writableEnded) return;
      logger.warn({ reqId: req.requestId, path: req.path, ms }, 'read past its deadline answered 503');
      const error = FhirError.unavailable(`The request did not complete within ${ms} ms; retry shortly`, { code: 'NHIS-1504' });
      for (const [k, v] of Object.entries(error.headers)) res.setHeader(k, v);
      sendJson(res, error.status, outcomeFromError(error));
      // The handler is still running: what it sends when it ends goes nowhere.
      const ignore = function (this: Response) {
        return this;
      };
      res.setHeader = ignore as unknown as Response['setHeader'];
      res.status = ignore as unknown as Response['status'];
      res.writeHead = ignore as unknown as Response['writeHead'];
      res.write = (() => true) as unknown as Response['write'];
      res.end = ignore as unknown as Response['end'];
    }, ms);
    timer.unref();
    res.once('close', () => clearTimeout(timer));
    res.once('finish', () => clearTimeout(timer));
    next();
  };
}
