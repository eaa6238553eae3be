import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { createApp } from './app';
import { answerClientError } from './http/client-error';
import { trackRequests } from './http/shutdown-gate';
import { checkServerConfig, type Config } from './config/config';
import { databaseOptionsOf, openDatabase, type Db } from './repository/db';
import { ensureDevelopmentClients } from './auth/development-credentials';
import { migrateToLatest } from './repository/migrate';
import type { Clock } from './shared/clock';
import type { IdGenerator } from './shared/ids';
import { warmValidation, warmValidationInSlices } from './validation';
import { startDemoSeed } from './demo/auto-seed';
import type { DemoCountryOptions } from './demo/demo-country';
import type { DemoLoadReport } from './demo/demo-loader';

export interface RunningServer {
  server: Server;
  url: string;
  /** The server's own database handle (tests register clients through it). */
  db: Db;
  /** The start-up demo seed (SEED_DEMO) when asked for: resolves when it ends, undefined if nothing was loaded. */
  demoSeed?: Promise<DemoLoadReport | undefined>;
  /** Stops accepting, lets in-flight requests finish, then closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  logger: Logger;
  migrate?: boolean;
  developmentClients?: boolean;
  clock?: Clock;
  ids?: IdGenerator;
  /** Apply SEED_DEMO after listening (main.ts); an object sets the demo country's sizes. */
  demoSeed?: boolean | Partial<DemoCountryOptions>;
  /**
   * `before-listen` (default): compile the validators, then listen, so the first request is fast.
   * `after-listen`: listen first and compile in slices meanwhile (development: answers in seconds).
   */
  warmValidation?: 'before-listen' | 'after-listen';
}

/** Opens the database, migrates, and listens. Used by main.ts and by the tests. */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const { config, logger } = opts;
  checkServerConfig(config);
  if (!config.keyEncryptionKey) logger.warn('KEY_ENCRYPTION_KEY is not set: private signing keys are stored unsealed (refused when NODE_ENV=production)');
  // Requests run under per-statement bounds (statement_timeout, lock_timeout); migrations may
  // legitimately run longer, so on PostgreSQL they use a connection of their own without them.
  const options = databaseOptionsOf(config, logger);
  if (opts.migrate !== false && config.databaseUrl) {
    const migrator = await openDatabase({ ...options, poolSize: 1 });
    try {
      await migrateToLatest(migrator.db);
    } finally {
      await migrator.close();
    }
  }
  const handle = await openDatabase({ ...options, statementTimeoutMs: config.dbStatementTimeoutMs, lockTimeoutMs: config.dbLockTimeoutMs });
  if (opts.migrate !== false && !config.databaseUrl) await migrateToLatest(handle.db);
  // Local use: a development client per role and its key files in DATA_DIR (never in production).
  if (opts.developmentClients && config.developmentCredentials) await ensureDevelopmentClients(handle.db, config, opts.clock ?? { now: () => new Date() });
  if (opts.warmValidation !== 'after-listen') warmValidation();

  let shuttingDown = false;
  const { app, ctx, stopBackground } = createApp({ config, db: handle.db, logger, clock: opts.clock, ids: opts.ids, isShuttingDown: () => shuttingDown });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const gate = trackRequests(server);
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 120_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // PORT=0 asks the OS for a port; the OAuth issuer and token audience derive from it.
  if (config.port === 0) config.port = port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const warming = opts.warmValidation === 'after-listen' ? warmValidationInSlices(() => shuttingDown) : undefined;
  // The demo load starts once the validators are compiled: until then requests get the event loop.
  let demo: ReturnType<typeof startDemoSeed> | undefined;
  const startDemo = (): void => {
    if (opts.demoSeed && !shuttingDown) {
      demo = startDemoSeed({ ctx, kind: handle.kind, logger, sizes: typeof opts.demoSeed === 'object' ? opts.demoSeed : undefined, isShuttingDown: () => shuttingDown });
    }
  };
  const demoStarted = warming ? warming.then(startDemo) : Promise.resolve(startDemo());

  let closing: Promise<void> | undefined;
  /**
   * Graceful shutdown within SHUTDOWN_TIMEOUT_MS: no new connections; answers say
   * `Connection: close` and requests arriving on kept-alive connections are refused
   * unprocessed (./http/shutdown-gate.ts, the app's first middleware); running requests
   * finish. Shortly before the grace period ends, the database sessions of requests still
   * running are ended, so that their uncommitted work rolls back and they answer 503; only
   * then are the remaining connections closed. A connection is never cut while the write of
   * its request may have committed and its answer is on its way.
   */
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      // Time left at the end for running requests to answer once their sessions are ended.
      const answerMs = Math.min(1000, config.shutdownTimeoutMs / 4);
      shuttingDown = true;
      gate.begin();
      server.close();
      server.closeIdleConnections();
      if (!(await gate.drained(deadline - answerMs))) {
        const ended = await handle.terminateActive();
        logger.warn({ running: gate.inFlight, sessionsEnded: ended }, 'grace period ending: requests still running are rolled back');
        await gate.drained(deadline);
      }
      server.closeAllConnections();
      await demoStarted;
      await demo?.stop();
      // Background work (an async Bundle job, say) is not waited for past the grace period (or a
      // last second for the audit flushes, if requests used it up): its sessions are ended (it
      // rolls back; the job's lease lets another process take it up).
      const backgroundMs = Math.max(1000, deadline - Date.now());
      const stopped = await Promise.race([stopBackground().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), backgroundMs).unref())]);
      if (!stopped) await handle.terminateActive();
      await handle.close();
    })());
  return { server, url, db: handle.db, demoSeed: opts.demoSeed ? demoStarted.then(() => demo?.done) : undefined, close };
}
