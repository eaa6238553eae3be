import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, Config } from '../../src/config/config';
import { startServer, RunningServer } from '../../src/server';
import { createLogger } from '../../src/shared/logger';
import { createTestDatabase, TestDatabase } from './db';
import { REGISTRY_TYPES } from '../../src/auth/roles';
import { createTestClient, obtainAccessTokenHttp, type TestClientOptions } from './tokens';

export interface TestServer {
  url: string;
  running: RunningServer;
  database?: TestDatabase;
  config: Config;
  /** Bearer tokens of the default test clients (a hospital and a registry administrator). */
  tokens: { hospital: string; registryAdmin: string };
  /**
   * fetch against the server with FHIR JSON defaults. Unless the request sets
   * its own Authorization header (or `anonymous`), it carries the token of the
   * client that would make such a request: the registry administrator for
   * updates and deletes of registry resources, the hospital for the rest.
   */
  fetch(path: string, init?: RequestInit & { json?: unknown; anonymous?: boolean }): Promise<TestResponse>;
  /** Registers a new client (role, organization, scopes) and returns an access token obtained over HTTP. */
  clientToken(opts: TestClientOptions): Promise<string>;
  /** True once the server was closed, through `close()` or `running.close()`. */
  isClosed(): boolean;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body (plain JSON.parse; use `text` to check exact number spelling). */
  body: any;
}

export interface TestServerOptions {
  /** Run on the embedded PGlite (in memory) instead of a fresh PostgreSQL database. */
  pglite?: boolean;
  env?: Record<string, string>;
  /** Reuse an existing database URL (e.g. two servers sharing one database). */
  databaseUrl?: string;
  /** Every log line the server writes (at level info and above) is appended here. */
  logLines?: string[];
}

/**
 * Servers started and not closed yet, on the test file's global object: a setup hook that timed out on
 * a loaded machine leaves its server starting after the file gave up on it, and the test environment
 * (test/support/environment.js) closes such leftovers when the file ends, so jest exits on its own.
 */
type Leftovers = Set<Promise<{ close(): Promise<void> }>>;
export function leftoverServers(): Leftovers {
  const holder = globalThis as unknown as { __nhisTestServers?: Leftovers };
  return (holder.__nhisTestServers ??= new Set());
}

/** Registers a starting server until it is closed (or failed to start). */
export function trackServer<T extends { close(): Promise<void> }>(starting: Promise<T>): Promise<T> {
  const registry = leftoverServers();
  registry.add(starting);
  starting.catch(() => registry.delete(starting));
  return starting.then((server) => ({
    ...server,
    close: async () => {
      registry.delete(starting);
      await server.close();
    },
  }));
}

let serverSerial = 0;

/** A real HTTP server on 127.0.0.1 with a random port, over a fresh database. */
export function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  return trackServer(startUntrackedTestServer(opts));
}

async function startUntrackedTestServer(opts: TestServerOptions): Promise<TestServer> {
  const database = opts.pglite || opts.databaseUrl ? undefined : await createTestDatabase();
  // A DATA_DIR of its own (the audit spool writes there during database outages), made only when
  // something is written there, removed on close.
  const dataDir = opts.env?.DATA_DIR ? undefined : path.join(tmpdir(), `nhis-test-data-${process.pid}-${++serverSerial}`);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', ...(dataDir ? { DATA_DIR: dataDir } : {}), ...opts.env };
  const databaseUrl = opts.databaseUrl ?? database?.url;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const config = loadConfig(env);
  // An empty dataDir makes the embedded database live in memory.
  if (opts.pglite) config.dataDir = '';
  const logLines = opts.logLines;
  const logger = logLines ? createLogger('info', { write: (line: string) => void logLines.push(line) }) : createLogger(config.logLevel);
  const running = await startServer({ config, logger });
  // A test may close the running server itself (running.close()); the environment then has nothing left to close.
  const closeRunning = running.close;
  let closed = false;
  running.close = () => {
    closed = true;
    return closeRunning();
  };
  const hospital = await createTestClient(running.db, { role: 'hospital', scopes: ['system/*.cruds'] });
  const admin = await createTestClient(running.db, { role: 'registry-admin', scopes: ['system/*.cruds'] });
  const tokens = { hospital: await obtainAccessTokenHttp(running.url, hospital), registryAdmin: await obtainAccessTokenHttp(running.url, admin) };
  const tokenFor = (path: string, method: string): string => {
    const type = path.split(/[/?]/)[1] ?? '';
    const registryWrite = (method === 'PUT' || method === 'DELETE' || path.includes('/$merge')) && REGISTRY_TYPES.has(type);
    return registryWrite ? tokens.registryAdmin : tokens.hospital;
  };
  const fetchFn = async (path: string, init: RequestInit & { json?: unknown; anonymous?: boolean } = {}): Promise<TestResponse> => {
    const headers = new Headers(init.headers);
    if (!init.anonymous && !headers.has('authorization')) headers.set('authorization', `Bearer ${tokenFor(path, (init.method ?? 'GET').toUpperCase())}`);
    let body = init.body;
    if (init.json !== undefined) {
      body = typeof init.json === 'string' ? init.json : JSON.stringify(init.json);
      if (!headers.has('content-type')) headers.set('content-type', 'application/fhir+json');
    }
    const { anonymous: _anonymous, json: _json, ...rest } = init;
    const res = await fetch(running.url + path, { ...rest, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  };
  return {
    url: running.url,
    running,
    database,
    config,
    tokens,
    fetch: fetchFn,
    clientToken: async (o) => obtainAccessTokenHttp(running.url, await createTestClient(running.db, o)),
    isClosed: () => closed,
    close: async () => {
      await running.close();
      await database?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
