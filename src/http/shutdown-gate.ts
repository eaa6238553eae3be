import type { Server, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { FhirError } from '../errors/fhir-error';
import { outcomeFromError } from '../errors/operation-outcome';
import { sendJson } from './send';

/**
 * The front door during a graceful shutdown. Once it begins, every answer says
 * `Connection: close` (so keep-alive clients move to another instance instead of sending more
 * here), and a request that arrives on a kept-alive connection anyway is answered 503 with
 * Retry-After before anything runs (`refuseWhenShuttingDown`, the app's first middleware):
 * nothing of it is done, so the client may safely send it elsewhere. Requests already running
 * finish normally; `drained` tells when none is left.
 */
export function refuseWhenShuttingDown(isShuttingDown: () => boolean) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (!isShuttingDown()) return next();
    const error = FhirError.unavailable('The server is shutting down; send the request again (it was not processed)', { code: 'NHIS-1505' });
    res.setHeader('Connection', 'close');
    for (const [k, v] of Object.entries(error.headers)) res.setHeader(k, v);
    sendJson(res, error.status, outcomeFromError(error));
  };
}

export interface RequestTracker {
  /** Shutdown begins: answers of running requests not yet started will say Connection: close. */
  begin(): void;
  readonly inFlight: number;
  /** Resolves true once no request is running, false if `untilMs` (epoch ms) comes first. */
  drained(untilMs: number): Promise<boolean>;
}

/** Counts the server's running requests (a 'request' listener beside the app's). */
export function trackRequests(server: Server): RequestTracker {
  const running = new Set<ServerResponse>();
  let closing = false;
  let waiters: (() => void)[] = [];
  server.on('request', (_req, res: ServerResponse) => {
    if (res.writableEnded) return;
    if (closing && !res.headersSent) res.setHeader('Connection', 'close');
    running.add(res);
    res.once('close', () => {
      running.delete(res);
      if (running.size === 0) {
        for (const w of waiters) w();
        waiters = [];
      }
    });
  });
  return {
    begin() {
      closing = true;
      // Node closes the connection after an answer that says so; one already under way keeps its headers.
      for (const res of running) if (!res.headersSent) res.setHeader('Connection', 'close');
    },
    get inFlight() {
      return running.size;
    },
    drained(untilMs) {
      if (running.size === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(running.size === 0), Math.max(0, untilMs - Date.now()));
        waiters.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
  };
}
