import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { FhirError, isFhirError } from '../errors/fhir-error';
import { internalErrorOutcome, outcomeFromError } from '../errors/operation-outcome';
import { sendJson } from './send';

/** Errors raised by express' body reader, turned into FHIR errors. */
function fromBodyReader(err: unknown): FhirError | undefined {
  // express' router could not decode a path parameter (`/Patient/%E0%A4%A`).
  if (err instanceof URIError) return FhirError.badRequest('The URL holds a malformed percent-escape');
  const e = err as { type?: string; status?: number; limit?: number };
  if (e?.type === 'entity.too.large') return FhirError.tooLarge(`The request body exceeds the limit of ${e.limit} bytes`);
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return FhirError.unsupportedMediaType('Unsupported body encoding or charset');
  if (e?.type === 'request.aborted') return FhirError.badRequest('The request was aborted by the client');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return FhirError.badRequest('The request body could not be read');
  return undefined;
}

/**
 * The one place where an error becomes an HTTP answer. `mapError` turns errors of the layers below
 * (a lost database connection) into the FHIR errors they mean; wired in app.ts.
 */
export function errorHandler(logger: Logger, mapError: (err: unknown) => unknown = (err) => err) {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const mapped = mapError(err);
    const fhirError = isFhirError(mapped) ? mapped : fromBodyReader(err);
    if (res.headersSent) {
      logger.error({ reqId: req.requestId, err: errorSummary(err) }, 'error after response started');
      res.end();
      return;
    }
    if (fhirError) {
      if (fhirError.status >= 500) logger.warn({ reqId: req.requestId, status: fhirError.status, err: errorSummary(err) }, fhirError.message);
      for (const [k, v] of Object.entries(fhirError.headers)) res.setHeader(k, v);
      sendJson(res, fhirError.status, outcomeFromError(fhirError));
      return;
    }
    logger.error({ reqId: req.requestId, err: errorSummary(err), stack: (err as Error)?.stack }, 'unhandled error');
    sendJson(res, 500, internalErrorOutcome(req.requestId));
  };
}

function errorSummary(err: unknown): Record<string, unknown> {
  const e = err as { name?: string; message?: string; code?: string };
  return { name: e?.name, message: e?.message, code: e?.code };
}
