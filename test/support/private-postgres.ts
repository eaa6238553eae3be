// A PostgreSQL cluster of the test's own: fault tests stop, kill and restart it without
// disturbing the shared server at 5432 (or anything else on the machine).
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** A new empty database on this cluster; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl stop` with the given mode (`immediate` is a crash: no checkpoint, recovery at the next start). */
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  /** Stops the cluster and deletes its directory. */
  destroy(): void;
}

function binDir(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  if (found) return path.dirname(found);
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => path.join(root, v, 'bin')).find((d) => existsSync(path.join(d, 'initdb')));
}

const BIN = binDir();
const AS_ROOT = process.getuid?.() === 0;

/** Whether this machine can run a private cluster (initdb and pg_ctl are installed). */
export const canRunPrivatePostgres = BIN !== undefined;

/** PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user. */
function run(cmd: string, args: string[]): void {
  const file = path.join(BIN!, cmd);
  if (AS_ROOT) execFileSync('runuser', ['-u', 'postgres', '--', file, ...args], { stdio: 'pipe' });
  else execFileSync(file, args, { stdio: 'pipe' });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** initdb into a temporary directory and start it on a free port (about 2 s). */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  if (!BIN) throw new Error('initdb not found: install PostgreSQL server binaries');
  const dir = mkdtempSync(path.join(tmpdir(), 'nhis-pg-'));
  if (AS_ROOT) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  // The data directory is thrown away: no fsync. The socket lives in the temp dir, never in /var/run.
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c full_page_writes=off -c max_connections=60 -c shared_buffers=32MB`;
  const start = (): void => run('pg_ctl', ['-D', data, '-o', options, '-w', '-t', '60', '-l', path.join(dir, 'log'), 'start']);
  const stop = (mode: 'fast' | 'immediate' = 'fast'): void => run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async createDatabase(name) {
      const { Client } = await import('pg');
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`create database ${name}`);
      } finally {
        await c.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    stop,
    start,
    destroy() {
      try {
        stop('immediate');
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
