import { createHash, timingSafeEqual } from 'node:crypto';
import express, { NextFunction, Request, Response, Router } from 'express';
import { FhirError } from '../errors/fhir-error';
import { findClient, insertClient, listClients, setClientActive, updateClient, type ClientRecord } from '../repository/clients';
import type { Db } from '../repository/db';
import type { Clock } from '../shared/clock';
import { parseJson } from '../shared/json';
import type { AuthService } from './auth-service';
import { parseClientInput } from './client-input';

/**
 * /admin/clients: the client registry. Callers: a `registry-admin` access
 * token, or the operator bootstrap credential (ADMIN_BOOTSTRAP_TOKEN) used to
 * register the first administrator.
 */
export interface AdminRouterDeps {
  db: Db;
  auth: AuthService;
  clock: Clock;
  bootstrapToken?: string;
  allowInsecureJwksUri?: boolean;
  /** Called after each change, for the audit trail (wired with the audit module). */
  onChange?: (change: { action: 'create' | 'update' | 'deactivate'; clientId: string; by: string }) => Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time: both sides are hashed to equal length first. */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function publicView(c: ClientRecord): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    role: c.role,
    organization: c.organization,
    scopes: c.scopes,
    jwks: c.jwks,
    jwksUri: c.jwksUri,
    active: c.active,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

function send(res: Response, status: number, body: unknown): void {
  res.status(status).setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

function bodyOf(req: Request): unknown {
  const b: unknown = req.body;
  if (Buffer.isBuffer(b)) return b.length ? parseJson(b.toString('utf8')) : undefined;
  return b;
}

export function createAdminRouter(deps: AdminRouterDeps): Router {
  const router = express.Router();

  async function who(req: Request): Promise<string> {
    const header = req.header('authorization');
    const bearer = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
    if (deps.bootstrapToken && bearer && !bearer.includes('.') && secretsEqual(bearer, deps.bootstrapToken)) return 'operator';
    const principal = await deps.auth.authenticate(header);
    if (principal.role !== 'registry-admin') throw FhirError.forbidden('Access denied by rule client-registry-admin-only: only registry administrators manage clients');
    return `client:${principal.clientId}`;
  }

  const handle =
    (fn: (req: Request, res: Response, by: string) => Promise<void>) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      try {
        await fn(req, res, await who(req));
      } catch (err) {
        next(err);
      }
    };

  const json = express.raw({ type: () => true, limit: '256kb' });

  router.get(
    '/admin/clients',
    handle(async (_req, res) => send(res, 200, (await listClients(deps.db)).map(publicView))),
  );
  router.get(
    '/admin/clients/:id',
    handle(async (req, res) => {
      const c = await findClient(deps.db, String(req.params.id));
      if (!c) throw FhirError.notFound(`Client ${req.params.id} is not registered`);
      send(res, 200, publicView(c));
    }),
  );
  router.post(
    '/admin/clients',
    json,
    handle(async (req, res, by) => {
      const input = parseClientInput(bodyOf(req), undefined, { allowInsecureJwksUri: deps.allowInsecureJwksUri });
      if (!(await insertClient(deps.db, input, deps.clock.now()))) throw FhirError.conflict(`Client ${input.id} already exists`);
      await deps.onChange?.({ action: 'create', clientId: input.id, by });
      send(res, 201, publicView((await findClient(deps.db, input.id)) as ClientRecord));
    }),
  );
  router.put(
    '/admin/clients/:id',
    json,
    handle(async (req, res, by) => {
      const input = parseClientInput(bodyOf(req), String(req.params.id), { allowInsecureJwksUri: deps.allowInsecureJwksUri });
      if (!(await updateClient(deps.db, input, deps.clock.now()))) throw FhirError.notFound(`Client ${input.id} is not registered`);
      await deps.onChange?.({ action: 'update', clientId: input.id, by });
      send(res, 200, publicView((await findClient(deps.db, input.id)) as ClientRecord));
    }),
  );
  // Clients are deactivated, never deleted: their ids stay in the audit trail.
  router.delete(
    '/admin/clients/:id',
    handle(async (req, res, by) => {
      const id = String(req.params.id);
      if (!(await setClientActive(deps.db, id, false, deps.clock.now()))) throw FhirError.notFound(`Client ${id} is not registered`);
      await deps.onChange?.({ action: 'deactivate', clientId: id, by });
      res.status(204).end();
    }),
  );
  return router;
}
