import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { FhirError } from '../errors/fhir-error';
import { outcomeFromError } from '../errors/operation-outcome';
import { FHIR_JSON } from './send';

/**
 * The front door during a graceful shutdown. Once it begins, every answer says
 * `Connection: close` (so keep-alive clients move to another instance instead of sending more
 * here), and a request that arrives on a kept-alive connection anyway is answered 503 with
 * Retry-After before anything runs: nothing of it is done, so the client may safely send it
 * elsewhere. Requests already running finish normally; `drained` tells when none is left.
 */
export interface ShutdownGate {
  /** The server's request listener, wrapping the app's. */
  listener: RequestListener;
  begin(): void;
  readonly inFlight: number;
  /** Resolves true once no request is running, false if `untilMs` (epoch ms) comes first. */
  drained(untilMs: number): Promise<boolean>;
}

export function createShutdownGate(app: RequestListener): ShutdownGate {
  const running = new Set<ServerResponse>();
  let closing = false;
  let waiters: (() => void)[] = [];

  const refuse = (res: ServerResponse): void => {
    const body = JSON.stringify(outcomeFromError(FhirError.unavailable('The server is shutting down; send the request again (it was not processed)', { code: 'NHIS-1505' })));
    res.writeHead(503, {
      'Content-Type': FHIR_JSON,
      'Content-Length': Buffer.byteLength(body),
      'Retry-After': '1',
      'Cache-Control': 'no-store',
      Connection: 'close',
    });
    res.end(body);
  };

  const listener: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
    if (closing) return refuse(res);
    running.add(res);
    res.once('close', () => {
      running.delete(res);
      if (running.size === 0) {
        for (const w of waiters) w();
        waiters = [];
      }
    });
    app(req, res);
  };

  return {
    listener,
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
