#!/usr/bin/env node
/**
 * Compiles src/ and scripts/ into dist/ only when a source changed since the last build, so that
 * `npm start`, `npm run token`, `seed` and `client` start at once instead of running tsc (9-30 s)
 * every time. `npm ci` builds once (the `prepare` script). `--force` always builds (`npm run build`).
 *
 * Plain JavaScript on purpose: it runs before anything is compiled. Output goes to stderr only,
 * so `npm run -s token` still prints nothing but the token.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const stamp = path.join(dist, '.build-stamp');
const lock = path.join(dist, '.build-lock');
/** What the build reads: a change in any of these makes dist/ stale. */
const INPUTS = ['src', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const STALE_LOCK_MS = 5 * 60_000;

function newestSourceTime() {
  let newest = 0;
  const visit = (file) => {
    let info;
    try {
      info = statSync(file);
    } catch {
      return;
    }
    if (info.isDirectory()) {
      for (const name of readdirSync(file)) if (name !== 'node_modules') visit(path.join(file, name));
    } else if (/\.(ts|json)$/.test(file)) {
      newest = Math.max(newest, info.mtimeMs);
    }
  };
  for (const input of INPUTS) visit(path.join(root, input));
  return newest;
}

function stampTime() {
  try {
    return statSync(stamp).mtimeMs;
  } catch {
    return -1;
  }
}

const isStale = () => stampTime() < newestSourceTime();

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** One build at a time: two `npm run token` started together must not both write dist/. */
function withLock(run) {
  mkdirSync(dist, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue;
      }
      if (age > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      else sleep(250);
    }
  }
  try {
    return run();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function build() {
  let tsc;
  try {
    tsc = createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    // A production install (--omit=dev) has no compiler: it runs the dist/ it was shipped with.
    if (existsSync(path.join(dist, 'src', 'main.js'))) return 0;
    process.stderr.write('dist/ is missing and TypeScript is not installed: run `npm ci` (with dev dependencies) first\n');
    // As npm's prepare step of such an install, say so without failing the install itself.
    return process.env.npm_lifecycle_event === 'prepare' ? 0 : 1;
  }
  const started = new Date();
  process.stderr.write(stampTime() < 0 ? 'Compiling TypeScript (first build)...\n' : 'Compiling TypeScript (sources changed since the last build)...\n');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) return result.status ?? 1;
  // Stamped with the start time: a file saved while tsc ran makes the next start build again.
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
  return 0;
}

// npm scripts run on the Node 24 that the `node` devDependency installs (node_modules/.bin comes first
// on their PATH); an install with scripts turned off leaves it out and the system Node would run.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `OpenNHIS needs Node.js 24 (this is ${process.version}). \`npm ci\` installs it for the npm scripts through the \`node\` ` +
      'devDependency unless install scripts are turned off; or install Node.js 24.\n',
  );
  process.exit(1);
}

const force = process.argv.includes('--force');
if (!force && !existsSync(path.join(root, 'src'))) process.exit(0); // an install without sources (Docker's dependency layer)
const status = force || isStale() ? withLock(() => (force || isStale() ? build() : 0)) : 0;
process.exit(status);
