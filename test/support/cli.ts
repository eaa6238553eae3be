import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { trackServer } from './server';

/** Test helpers that run the project as a user does: the built server process and the command-line tools. */
export const REPO_ROOT = path.resolve(__dirname, '../..');

/** Compiles dist/ if a source changed since the last build (scripts/ensure-build.mjs; quick when it is current). */
export function ensureBuilt(): void {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/ensure-build.mjs')], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

export interface ServerProcess {
  url: string;
  dataDir: string;
  env: Record<string, string>;
  child: ChildProcess;
  /** What the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, wait for the exit, remove the data directory. */
  stop(): Promise<void>;
}

function readAddress(file: string): { url: string; pid: number } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { url: string; pid: number };
  } catch {
    return undefined;
  }
}

/**
 * `node dist/src/main.js` with its own DATA_DIR (a temporary folder) and the given environment, as
 * `npm start` runs it; resolves once it listens and has written DATA_DIR/server.json.
 */
export function startServerProcess(env: Record<string, string> = {}, timeoutMs = 90_000): Promise<ServerProcess> {
  return trackServer(startUntrackedServerProcess(env, timeoutMs)).then((s) => ({ ...s, stop: s.close }));
}

async function startUntrackedServerProcess(env: Record<string, string>, timeoutMs: number): Promise<ServerProcess & { close(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'nhis-cli-'));
  const fullEnv: Record<string, string> = { PORT: '0', SEED_DEMO: 'off', LOG_LEVEL: 'warn', DATA_DIR: dataDir, ...env };
  const childEnv = { ...process.env, ...fullEnv };
  for (const name of ['BASE_URL', 'AUTH_ISSUER', 'NODE_ENV']) if (!(name in fullEnv)) delete childEnv[name];
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/src/main.js')], { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  const addressFile = path.join(dataDir, 'server.json');
  for (;;) {
    const address = readAddress(addressFile);
    if (address && address.pid === child.pid) {
      const ok = await fetch(`${address.url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return { url: address.url, dataDir, env: fullEnv, child, output: () => output, stop, close: stop };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`server process did not start (exit ${child.exitCode}):\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/scripts/<script>.js args` with the given environment (not the test's PORT, BASE_URL...). */
export function runCli(script: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of ['PORT', 'HOST', 'BASE_URL', 'AUTH_ISSUER', 'NODE_ENV']) if (!(name in env)) delete childEnv[name];
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO_ROOT, `dist/scripts/${script}.js`), ...args], { cwd: REPO_ROOT, env: childEnv, timeout: timeoutMs }, (err, stdout, stderr) => {
      const status = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

/** A temporary folder removed by the returned function. */
export function temporaryDir(prefix = 'nhis-tmp-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
