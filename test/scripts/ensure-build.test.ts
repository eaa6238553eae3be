// Build once (issue 14, item 2): npm start, token, seed and client compile only when a source changed.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureBuilt, REPO_ROOT } from '../support/cli';

const scripts = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

test('the everyday commands go through ensure-build, never straight to tsc', () => {
  for (const name of ['start', 'token', 'seed', 'client', 'openapi']) {
    expect(`${name}: ${scripts[name]}`).toMatch(new RegExp(`^${name}: node scripts/ensure-build\\.mjs && node dist/`));
  }
  // npm ci compiles once.
  expect(scripts.prepare).toBe('node scripts/ensure-build.mjs');
});

test('with dist/ current, ensure-build compiles nothing and prints nothing', () => {
  ensureBuilt();
  const started = Date.now();
  const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/ensure-build.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
  expect(run.status).toBe(0);
  expect(run.stderr).toBe('');
  expect(run.stdout).toBe('');
  // Far below a tsc run (10-30 s); generous for a loaded machine.
  expect(Date.now() - started).toBeLessThan(5_000);
}, 180_000);

test('it refuses an older Node with a message that says what to do', () => {
  // The system Node of some machines; skipped where there is none older than 24.
  let old: string | undefined;
  try {
    const version = execFileSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).trim();
    if (Number(version.slice(1).split('.')[0]) < 24) old = '/usr/bin/node';
  } catch {
    old = undefined;
  }
  if (!old) return;
  const run = spawnSync(old, [path.join(REPO_ROOT, 'scripts/ensure-build.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('OpenNHIS needs Node.js 24');
});
