import express, { Express, NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from './config/config';
import { FhirError } from './errors/fhir-error';
import type { FhirContext } from './fhir/context';
import { checkNationalIdentifiers } from './domain/identity/national-identifiers';
import { createPatientRegistryHook } from './domain/identity/patient-registry-hook';
import { startPrescriptionExpiryJob } from './domain/prescription/expire';
import { createPrescriptionGuard } from './domain/prescription/prescribe';
import { createTemporaryIdentifierHook } from './domain/identity/temporary-identifier';
import { createRegistryReferenceHook } from './domain/registry/registry-reference-hook';
import { schemesByName } from './shared/national-id';
import { validateResource } from './validation';
import { startBundleWorker } from './fhir/async/bundle-worker';
import { buildCapabilityStatement, capabilitySearchParams } from './fhir/capability-statement';
import { FHIR_ROUTES } from './fhir/routes';
import { SERVER_SCOPE } from './store/access/access-scope';
import { keepAuditPartitions } from './store/audit/audit-partitions';
import { createAuditTrail } from './store/audit/audit-trail';
import { createSpoolTrail } from './store/audit/audit-spool-trail';
import { auditSpoolDir } from './repository/audit-spool';
import { matchResourceIds } from './store/search/search-resources';
import type { ResourceValidator } from './store/write/write-hooks';
import { createAdminRouter } from './auth/admin-router';
import { createAuthService } from './auth/auth-service';
import { createAuthRouter } from './auth/auth-router';
import { issuerFromConfig } from './auth/issuer';
import { findPatientByNationalId } from './repository/patient-identity';
import { authenticate } from './http/authenticate';
import { accessLog } from './http/access-log';
import { contentNegotiation } from './http/content-negotiation';
import { docsRoutes } from './http/docs';
import { errorHandler } from './http/error-handler';
import { baseUrlOf, mountFhirRoutes } from './http/fhir-adapter';
import { healthRoutes } from './http/health';
import { cors } from './http/cors';
import { securityHeaders } from './http/security-headers';
import { requestId } from './http/request-id';
import { requestDeadline } from './http/request-deadline';
import { refuseWhenShuttingDown } from './http/shutdown-gate';
import { sendJson } from './http/send';
import { ping, type Db } from './repository/db';
import { mapDriverError } from './store/errors';
import type { Clock } from './shared/clock';
import { systemClock } from './shared/clock';
import type { IdGenerator } from './shared/ids';
import { uuidIds } from './shared/ids';

export interface AppDeps {
  config: Config;
  db: Db;
  logger: Logger;
  clock?: Clock;
  ids?: IdGenerator;
  isShuttingDown?: () => boolean;
}

const VERSION = '0.1.0';

/** The composition root: the only place that wires every layer together. */
export function createApp(deps: AppDeps): { app: Express; ctx: FhirContext; stopBackground: () => Promise<void> } {
  const { config, db, logger } = deps;
  const ids = deps.ids ?? uuidIds;
  const schemes = schemesByName(config.nationalIdSchemes);
  const validate: ResourceValidator = (resource, opts = {}) => {
    const issues = validateResource(resource, { expectedType: resource.resourceType, pathPrefix: opts.pathPrefix, profiles: config.nationalProfiles });
    // Warnings (e.g. an unknown foreign meta.profile) do not stop the national identifier checks.
    const hasErrors = issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
    return hasErrors ? issues : [...issues, ...checkNationalIdentifiers(resource, schemes, opts.pathPrefix)];
  };
  // Refusals while PostgreSQL is out of reach are spooled to local disk (PGlite runs in the process: no need).
  const spool = config.databaseUrl && config.dataDir ? createSpoolTrail({ db, logger, dir: auditSpoolDir(config.dataDir, config.databaseUrl) }) : undefined;
  spool?.startMoving();
  const ctx: FhirContext = {
    db,
    config,
    logger,
    clock: deps.clock ?? systemClock,
    ids,
    validate,
    writeHooks: [
      createPatientRegistryHook(schemes),
      // REGISTRY_MODE (issue 5): open/strict give identifier-less Patients a temporary id and check clinical references.
      ...(config.registryMode === 'off'
        ? []
        : [
            createTemporaryIdentifierHook(schemes, () => `T-${ids.newId()}`),
            createRegistryReferenceHook({ mode: config.registryMode, schemes, findIds: (tx, type, criteria, limit) => matchResourceIds(tx, SERVER_SCOPE, type, criteria, limit) }),
          ]),
      createPrescriptionGuard(),
    ],
    audit: createAuditTrail({ db, ids, readCommit: config.auditReadCommit, spool }),
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // Which X-Forwarded-For hops name the client (audit trail, refused-authentication limit per address).
  if (config.trustProxy !== undefined) app.set('trust proxy', config.trustProxy);
  // Once shutdown begins: refused unprocessed, Connection: close (keep-alive clients go elsewhere).
  app.use(refuseWhenShuttingDown(deps.isShuttingDown ?? (() => false)));
  app.use(requestId);
  app.use(accessLog(logger));
  app.use(requestDeadline(config.requestTimeoutMs, logger));
  app.use(securityHeaders);
  app.use(cors(config.corsOrigins));
  app.use(healthRoutes(() => ping(db), deps.isShuttingDown ?? (() => false)));
  app.use(docsRoutes());

  // SMART Backend Services: token endpoint, JWKS, discovery; the client admin API.
  const auth = createAuthService({
    db,
    config,
    clock: ctx.clock,
    logger,
    issuer: () => issuerFromConfig(config),
    resolvePatient: (nationalId) => findPatientByNationalId(db, nationalId, schemes.map((s) => s.system)),
  });
  app.use(createAuthRouter({ auth }));
  app.use(
    createAdminRouter({
      db,
      auth,
      clock: ctx.clock,
      bootstrapToken: config.adminBootstrapToken,
      allowInsecureJwksUri: config.developmentCredentials,
      // Every change to a client is in the audit trail, under the operator who made it.
      onChange: (change) =>
        ctx.audit.record({
          principal: change.principal,
          claimedClientId: change.principal ? undefined : 'operator-bootstrap',
          interaction: change.action === 'create' ? 'create' : change.action === 'update' ? 'update' : 'delete',
          administeredClient: change.clientId,
          patientIds: [],
          outcome: 'success',
          requestId: change.requestId,
          clientIp: change.clientIp,
          when: ctx.clock.now(),
        }),
    }),
  );
  app.use(contentNegotiation);
  app.use(express.raw({ type: () => true, limit: config.bodyLimitBytes }));

  app.get('/metadata', (req: Request, res: Response) => {
    sendJson(res, 200, buildCapabilityStatement({ baseUrl: baseUrlOf(req, config.baseUrl), version: VERSION, searchParams: capabilitySearchParams }));
  });

  // Default deny: nothing below is reachable without a verified access token.
  const authGate = authenticate(auth, ctx, config);
  app.use(authGate);
  const fhir = express.Router();
  mountFhirRoutes(fhir, FHIR_ROUTES, ctx);
  // A known path with another method is 405 with the methods it does allow.
  const allowed = new Map<string, string[]>();
  for (const r of FHIR_ROUTES) allowed.set(r.path, [...(allowed.get(r.path) ?? []), r.method]);
  for (const [path, methods] of allowed) {
    fhir.all(path, (_req: Request, res: Response, next: NextFunction) => {
      res.setHeader('Allow', methods.join(', '));
      next(FhirError.methodNotAllowed(`Allowed methods here: ${methods.join(', ')}`));
    });
  }
  app.use(fhir);

  app.use((req: Request, _res: Response, next: NextFunction) => next(FhirError.notFound(`No route for ${req.method} ${req.path}`, { code: 'NHIS-1007' })));
  app.use(errorHandler(logger, mapDriverError));
  // Durable background processing of `Prefer: respond-async` Bundles; stops polling once shutdown begins.
  const bundleWorker = startBundleWorker(ctx, { isShuttingDown: deps.isShuttingDown ?? (() => false) });
  const prescriptionExpiry = startPrescriptionExpiryJob(ctx, { isShuttingDown: deps.isShuttingDown });
  const auditPartitions = keepAuditPartitions(db, ctx.clock, logger);
  return {
    app,
    ctx,
    stopBackground: async () => {
      await authGate.flushAudit();
      await bundleWorker.stop();
      await prescriptionExpiry.stop();
      await auditPartitions.stop();
      await spool?.stop();
    },
  };
}
