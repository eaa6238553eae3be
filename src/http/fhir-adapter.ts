import type { NextFunction, Request, Response, Router } from 'express';
import type { FhirContext } from '../fhir/context';
import type { FhirRequest, FhirResponse } from '../fhir/request';
import { FhirError } from '../errors/fhir-error';
import { accessOptionsOf, authorizeRoute, scopeOf } from '../fhir/access';
import { createRequestAudit, type RequestAudit } from '../fhir/request-audit';
import type { FhirRoute } from '../fhir/route-types';
import { parseJson } from '../shared/json';
import { decodeBodyText } from './body-text';
import { sendJson, sendRaw } from './send';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

export function baseUrlOf(req: Request, configured?: string): string {
  return configured ?? `${req.protocol}://${req.get('host')}`;
}

/** express → FhirRequest. The body arrives as a Buffer (express.raw) and is parsed here, losslessly. */
export function toFhirRequest(req: Request, baseUrl: string): FhirRequest {
  const rawQuery = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
  const query = new URLSearchParams(rawQuery);
  query.delete('_format');
  let body: unknown;
  if (METHODS_WITH_BODY.has(req.method) && Buffer.isBuffer(req.body) && req.body.length > 0) {
    const text = decodeBodyText(req.body, req.header('content-type'));
    const contentType = (req.header('content-type') ?? '').toLowerCase();
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      // POST [type]/_search: form parameters join the query.
      for (const [k, v] of new URLSearchParams(text)) query.append(k, v);
    } else {
      body = parseJson(text);
    }
  }
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return {
    method: req.method as FhirRequest['method'],
    params: { ...(req.params as Record<string, string>) },
    query,
    body,
    headers,
    baseUrl,
    requestId: req.requestId,
  };
}

export function sendFhirResponse(res: Response, out: FhirResponse): void {
  for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
  if (out.rawBody !== undefined) return sendRaw(res, out.status, out.rawBody);
  if (out.body !== undefined) return sendJson(res, out.status, out.body);
  res.status(out.status).end();
}

/** Registers the FHIR route table on an express router. */
export function mountFhirRoutes(router: Router, routes: readonly FhirRoute[], ctx: FhirContext): void {
  const accessOptions = accessOptionsOf(ctx.config);
  for (const route of routes) {
    const register = router[route.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete' | 'patch'].bind(router);
    register(route.path, async (req: Request, res: Response, next: NextFunction) => {
      let audit: RequestAudit | undefined;
      try {
        if (route.types && !route.types.includes(String(req.params.type))) {
          throw FhirError.notFound(`No such operation on ${String(req.params.type)}; it is defined on ${route.types.join(', ')}`, { code: 'NHIS-1007' });
        }
        const fhirReq = toFhirRequest(req, baseUrlOf(req, ctx.config.baseUrl));
        fhirReq.principal = req.principal;
        fhirReq.clientIp = req.ip;
        if (route.operation) fhirReq.operation = `$${route.operation}`;
        audit = createRequestAudit(ctx, route, fhirReq);
        fhirReq.access = authorizeRoute(route, fhirReq, accessOptions);
        if (fhirReq.principal) fhirReq.scope = scopeOf(ctx, fhirReq);
        const out = await route.handler(audit.ctx, fhirReq);
        await audit.afterSuccess(out);
        sendFhirResponse(res, out);
      } catch (err) {
        await audit?.afterFailure(err);
        next(err);
      }
    });
  }
}
