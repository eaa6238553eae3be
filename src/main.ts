import cluster from 'node:cluster';
import { checkServerConfig, ConfigError, loadConfig } from './config/config';
import { openDatabase } from './repository/db';
import { migrateToLatest } from './repository/migrate';
import { ensureDevelopmentClients } from './auth/development-credentials';
import { issuerFromConfig, localUrlFromConfig } from './auth/issuer';
import type { Config } from './config/config';
import { removeServerAddress, writeServerAddress } from './config/server-address';
import { startServer } from './server';
import { createLogger } from './shared/logger';

/** Tells the local tools (`npm run token`, `seed`, `client`) where this server listens; best effort. */
function announce(config: Config, port: number, logger: ReturnType<typeof createLogger>): void {
  const listening = { ...config, port };
  try {
    writeServerAddress(config, { url: localUrlFromConfig(listening), issuer: issuerFromConfig(listening), pid: process.pid, startedAt: new Date().toISOString() });
    process.once('exit', () => removeServerAddress(config));
  } catch (err) {
    logger.warn({ err: { message: (err as Error).message } }, 'could not write the server address into DATA_DIR');
  }
}

/** Process entry: config → (migrate once) → workers → listen → graceful shutdown. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
    checkServerConfig(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const clustered = Boolean(config.databaseUrl) && config.workers > 1;

  if (clustered && cluster.isPrimary) {
    // Migrate once before forking so workers start on the final schema.
    const handle = await openDatabase({ databaseUrl: config.databaseUrl, logger });
    const applied = await migrateToLatest(handle.db);
    if (config.developmentCredentials) await ensureDevelopmentClients(handle.db, config, { now: () => new Date() });
    await handle.close();
    logger.info({ applied, workers: config.workers }, 'migrations done; starting workers');
    if (config.seedDemo === 'on') logger.warn('SEED_DEMO=on is not applied with several workers; run `npm run seed` instead');
    for (let i = 0; i < config.workers; i++) cluster.fork();
    cluster.once('listening', (_worker, address) => announce(config, address.port, logger));
    let stopping = false;
    const alive = () => Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead());
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) {
        if (alive().length === 0) process.exit(0);
        return;
      }
      logger.error({ pid: worker.process.pid, code, signal }, 'worker exited; replacing it');
      cluster.fork();
    });
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      for (const w of alive()) w?.process.kill('SIGTERM');
      // Workers end within the grace period; one that does not (stuck) is not waited for.
      setTimeout(() => {
        const stuck = alive();
        logger.error({ workers: stuck.map((w) => w?.process.pid) }, 'workers still running after the grace period; killing them');
        for (const w of stuck) w?.process.kill('SIGKILL');
        process.exit(1);
      }, config.shutdownTimeoutMs + 3000).unref();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    return;
  }

  // Outside production the server listens before it compiles its validators: a newcomer's `npm start` answers in seconds.
  const warmValidation = process.env.NODE_ENV === 'production' ? 'before-listen' : 'after-listen';
  const running = await startServer({ config, logger, migrate: !clustered, developmentClients: !clustered, demoSeed: !clustered, warmValidation });
  if (!clustered) announce(config, config.port, logger);
  logger.info({ url: running.url, database: config.databaseUrl ? 'postgresql' : `pglite:${config.dataDir}`, pid: process.pid }, 'OpenNHIS listening');
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown did not finish within the grace period; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 3000).unref();
    running.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err: { message: (err as Error).message } }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`OpenNHIS failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
