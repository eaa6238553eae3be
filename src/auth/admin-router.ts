import { createHash, timingSafeEqual } from 'node:crypto';
import express, { NextFunction, Request, Response, Router } from 'express';
import { FhirError } from '../errors/fhir-error';
import { findClient, insertClient, listClients, setClientActive, updateClient, type ClientRecord } from '../repository/clients';
import type { Db } from '../repository/db';
import type { Clock } from '../shared/clock';
import { parseJson } from '../shared/json';
import type { AuthService } from './auth-service';
import { parseClientInput } from './client-input';
import type { Principal } from './principal';
import { CLIENT_ADMIN_SCOPE } from './scopes';

/**
 * /admin/clients: the client registry. Administering clients (who may call, with which role,
 * scopes and keys) is the operator's duty, apart from keeping registries: callers are an
 * `operator` access token (scope `admin/clients`), or the operator bootstrap credential
 * (ADMIN_BOOTSTRAP_TOKEN) used to register the first operator. Every change is audited.
 */
export interface AdminRouterDeps {
  db: Db;
  auth: AuthService;
  clock: Clock;
  bootstrapToken?: string;
  allowInsecureJwksUri?: boolean;
  /** Called after each change, for the audit trail (wired with the audit module); a failure fails the request. */
  onChange?: (change: ClientChange) => Promise<void>;
}

/** One change to the client registry, by the operator's client or the bootstrap credential. */
export interface ClientChange {
  action: 'create' | 'update' | 'deactivate';
  clientId: string;
  /** The operator's principal; undefined for the bootstrap credential. */
  principal?: Principal;
  requestId: string;
  clientIp?: string;
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

  /** The operator: undefined for the bootstrap credential. */
  async function who(req: Request): Promise<Principal | undefined> {
    const header = req.header('authorization');
    const bearer = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
    if (deps.bootstrapToken && bearer && !bearer.includes('.') && secretsEqual(bearer, deps.bootstrapToken)) return undefined;
    const principal = await deps.auth.authenticate(header);
    if (principal.role !== 'operator' || !principal.scopes.includes(CLIENT_ADMIN_SCOPE)) {
      throw FhirError.forbidden('Access denied by rule client-administration-operator-only: only operators administer clients', { code: 'NHIS-1403' });
    }
    return principal;
  }

  const changed = (req: Request, by: Principal | undefined, action: ClientChange['action'], clientId: string) =>
    deps.onChange?.({ action, clientId, principal: by, requestId: req.requestId, clientIp: req.ip });

  const handle =
    (fn: (req: Request, res: Response, by: Principal | undefined) => Promise<void>) =>
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
      await changed(req, by, 'create', input.id);
      send(res, 201, publicView((await findClient(deps.db, input.id)) as ClientRecord));
    }),
  );
  router.put(
    '/admin/clients/:id',
    json,
    handle(async (req, res, by) => {
      const input = parseClientInput(bodyOf(req), String(req.params.id), { allowInsecureJwksUri: deps.allowInsecureJwksUri });
      if (!(await updateClient(deps.db, input, deps.clock.now()))) throw FhirError.notFound(`Client ${input.id} is not registered`);
      await changed(req, by, 'update', input.id);
      send(res, 200, publicView((await findClient(deps.db, input.id)) as ClientRecord));
    }),
  );
  // Clients are deactivated, never deleted: their ids stay in the audit trail.
  router.delete(
    '/admin/clients/:id',
    handle(async (req, res, by) => {
      const id = String(req.params.id);
      if (!(await setClientActive(deps.db, id, false, deps.clock.now()))) throw FhirError.notFound(`Client ${id} is not registered`);
      await changed(req, by, 'deactivate', id);
      res.status(204).end();
    }),
  );
  return router;
}
