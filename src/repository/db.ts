import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely';
import { Client, Pool, type PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { Database } from './schema';

export type Db = Kysely<Database>;

export interface DbOptions {
  databaseUrl?: string;
  /** Directory of the embedded database; undefined means in memory. */
  dataDir?: string;
  poolSize?: number;
  acquireTimeoutMs?: number;
  /**
   * PostgreSQL statement_timeout / lock_timeout of every connection (ms, 0 = none), sent in the
   * connection's start-up packet (no round trip). The server sets them; scripts and migrations
   * (which may run long on purpose) leave them unset.
   */
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  logger?: Logger;
}

/** The database the configuration names: PostgreSQL at DATABASE_URL, else the embedded one in DATA_DIR. */
export function databaseOptionsOf(
  config: { databaseUrl?: string; dataDir: string; dbPoolSize: number; dbAcquireTimeoutMs: number },
  logger?: Logger,
): DbOptions {
  return {
    databaseUrl: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : config.dataDir,
    poolSize: config.dbPoolSize,
    acquireTimeoutMs: config.dbAcquireTimeoutMs,
    logger,
  };
}

export interface DbHandle {
  db: Db;
  kind: 'postgres' | 'pglite';
  /**
   * Ends the database sessions of connections checked out of the pool right now (shutdown, at
   * the end of the grace period): their uncommitted transactions roll back, and the requests
   * using them fail with a 503 instead of being cut off mid-answer. Returns how many.
   */
  terminateActive(): Promise<number>;
  close(): Promise<void>;
}

/** Real PostgreSQL when a URL is given, otherwise the embedded PGlite. */
export async function openDatabase(opts: DbOptions): Promise<DbHandle> {
  if (opts.databaseUrl) {
    const pool = new Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.acquireTimeoutMs ?? 5000,
      idleTimeoutMillis: 30000,
      ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
      ...(opts.lockTimeoutMs ? { lock_timeout: opts.lockTimeoutMs } : {}),
    });
    // Without a listener node-postgres crashes the process when an idle client
    // loses its server (e.g. PostgreSQL restarts); the pool replaces the client.
    pool.on('error', (err) => opts.logger?.warn({ err: { message: err.message } }, 'idle database client lost'));
    // A checked-out client whose server goes away emits 'error' too; unheard, it
    // would crash the process. The query in flight fails on its own and is mapped to 503.
    pool.on('connect', (client) => {
      client.on('error', (err) => opts.logger?.warn({ err: { message: err.message } }, 'database connection lost'));
    });
    const checkedOut = new Set<PoolClient>();
    pool.on('acquire', (client) => checkedOut.add(client));
    pool.on('release', (_err, client) => checkedOut.delete(client));
    pool.on('remove', (client) => checkedOut.delete(client));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const terminateActive = async (): Promise<number> => {
      const pids = [...checkedOut].map((c) => (c as unknown as { processID?: number }).processID).filter((p): p is number => typeof p === 'number');
      if (pids.length === 0) return 0;
      // A connection of its own: the pool may have none to spare.
      const admin = new Client({ connectionString: opts.databaseUrl, connectionTimeoutMillis: 2000 });
      admin.on('error', () => undefined);
      try {
        await admin.connect();
        await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [pids]);
      } catch (err) {
        opts.logger?.warn({ err: { message: (err as Error).message } }, 'could not end the database sessions of running requests');
        return 0;
      } finally {
        await admin.end().catch(() => undefined);
      }
      return pids.length;
    };
    return { db, kind: 'postgres', terminateActive, close: () => db.destroy() };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = opts.dataDir ? new PGlite(opts.dataDir) : new PGlite();
  await pglite.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  return { db, kind: 'pglite', terminateActive: async () => 0, close: () => db.destroy() };
}

export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
