// The server as production runs it (src/main.ts: cluster primary, workers, signal handling) in a
// child process, for tests of signals and crashes. TypeScript runs through ./ts-register.js.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Every log line so far (JSON from pino, as parsed). */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** Kills its process group (the primary and any workers) and removes its DATA_DIR. */
  dispose(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '../..');

export async function freePort(): Promise<number> {
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

/** Starts `src/main.ts` with `env` and resolves once `listening` workers have said so. */
export async function startServerProcess(env: Record<string, string>, opts: { listening?: number; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'nhis-proc-'));
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'test/support/ts-register.js'), path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', DATA_DIR: dataDir, DEVELOPMENT_CREDENTIALS: 'off', SEED_DEMO: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that dispose() also ends cluster workers whose primary was killed.
    detached: true,
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const wanted = opts.listening ?? 1;
  const ready = new Promise<void>((resolve, reject) => {
    let pending = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          continue;
        }
        if (logs.filter((l) => l.msg === 'OpenNHIS listening').length === wanted) resolve();
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (stderr += d));
    void exited.then((e) => reject(new Error(`server process exited (${e.code ?? e.signal}) before listening: ${stderr.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`server process not listening after ${opts.timeoutMs ?? 60_000} ms: ${stderr.slice(-2000)}`)), opts.timeoutMs ?? 60_000).unref();
  });
  const killGroup = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  try {
    await ready;
  } catch (err) {
    killGroup();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    logs,
    exited,
    kill: (signal) => child.kill(signal),
    async dispose() {
      const running = child.exitCode === null && child.signalCode === null;
      killGroup();
      if (running) await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
