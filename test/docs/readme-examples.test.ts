// Every shell example of the README's "Quick start" and "Using it" runs as printed, in order, against a
// live server with the demo data (issue 14, item 4): `npm start`'s server process, `npm run token`,
// the files in examples/, curl and jq. A request answered 4xx or 5xx fails the test, so the README
// cannot rot.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { ensureBuilt, REPO_ROOT, runCli, startServerProcess, type ServerProcess } from '../support/cli';

const RUN_SECTIONS = ['Quick start', 'Using it'];

/** The ```sh blocks under the `## ` sections named above (their `###` subsections included), in README order. */
export function readmeExamples(markdown: string): string[] {
  const blocks: string[] = [];
  let section = '';
  let inBlock: string[] | undefined;
  for (const line of markdown.split('\n')) {
    if (inBlock) {
      if (line.startsWith('```')) {
        blocks.push(inBlock.join('\n'));
        inBlock = undefined;
      } else inBlock.push(line);
      continue;
    }
    if (line.startsWith('## ')) section = line.slice(3).trim();
    else if (line === '```sh' && RUN_SECTIONS.includes(section)) inBlock = [];
  }
  return blocks;
}

/** Runs the script in bash; every curl call reports `HTTP <status> <method> <url>` on stderr. */
function runScript(script: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ status: number; stdout: string; stderr: string }> {
  const prelude = ['set -euo pipefail', `curl() { command curl -w '%{stderr}HTTP %{http_code} %{method} %{url_effective}\\n' "$@"; }`].join('\n');
  return new Promise((resolve) => {
    execFile('bash', ['-c', `${prelude}\n${script}`], { cwd: REPO_ROOT, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

test('the README has runnable examples in its quick start and usage sections', () => {
  const blocks = readmeExamples(readme);
  expect(blocks.length).toBeGreaterThanOrEqual(6);
  // Placeholders like {id} cannot run; the examples capture ids instead.
  for (const block of blocks) expect(block).not.toMatch(/\{(id|task|access code|secret)\}/);
});

describe('against a live server with the demo data', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let home: string;
  beforeAll(async () => {
    ensureBuilt();
    database = await createTestDatabase();
    const seeded = await runCli('seed-demo', [], { DATABASE_URL: database.url, DATA_DIR: path.join(tmpdir(), 'nhis-unused') }, 600_000);
    if (seeded.status !== 0) throw new Error(`npm run seed failed: ${seeded.stderr}`);
    server = await startServerProcess({ DATABASE_URL: database.url, WORKERS: '1' });
    home = mkdtempSync(path.join(tmpdir(), 'nhis-home-'));
  }, 900_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    if (home) rmSync(home, { recursive: true, force: true });
  }, 60_000);

  test('every example runs as printed and every request succeeds', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, B: server.url, DATA_DIR: server.dataDir, DATABASE_URL: database.url, HOME: home, npm_config_cache: path.join(home, '.npm') };
    for (const name of ['PORT', 'HOST', 'BASE_URL', 'AUTH_ISSUER', 'NODE_ENV']) delete env[name];
    const run = await runScript(readmeExamples(readme).join('\n\n'), env, 600_000);
    const calls = run.stderr.split('\n').filter((l) => l.startsWith('HTTP '));
    const failed = calls.filter((l) => !/^HTTP 2\d\d /.test(l));
    expect({ status: run.status, failed, otherErrors: run.stderr.split('\n').filter((l) => l && !l.startsWith('HTTP ')) }).toEqual({ status: 0, failed: [], otherErrors: [] });
    // Every curl of the README ran (none was skipped by an early exit).
    const printed = readmeExamples(readme).join('\n').match(/\bcurl -/g)!.length;
    expect(calls.length).toBe(printed);
    // What the walk-through promises: the discharge Bundle's entries are created, the prescription is
    // completed, and its timeline shows prescribe → accept → close; the integrator's own client reads.
    expect(run.stdout).toMatch(/^201 Created$/m);
    expect(run.stdout).toMatch(/^prescription RX-\S+, access code \S+$/m);
    expect(run.stdout).toMatch(/^completed$/m);
    expect(run.stdout).toMatch(/^prescribe\naccept\nclose$/m);
    expect(run.stdout).toMatch(/^my-his hospital$/m);
  }, 600_000);
});

test('examples/opennhis.http calls only routes the OpenAPI description documents, with files that exist', () => {
  const http = readFileSync(path.join(REPO_ROOT, 'examples/opennhis.http'), 'utf8');
  const documented = readFileSync(path.join(REPO_ROOT, 'openapi.yaml'), 'utf8');
  const requests = [...http.matchAll(/^(GET|POST|PUT|DELETE) \{\{base\}\}(\/[^?\s]*)/gm)].map((m) => ({ method: m[1], path: m[2] }));
  expect(requests.length).toBeGreaterThanOrEqual(10);
  for (const r of requests) {
    // {{taskId}} and friends are path parameters: /Task/{{taskId}}/$accept is /Task/{id}/$accept.
    const templated = r.path.replace(/\{\{\w+\}\}/g, '{id}').replace(/^\/OperationDefinition\/[\w-]+$/, '/OperationDefinition/{id}');
    expect(`${r.method} ${templated}: ${documented.includes(`\n  ${templated}:\n`)}`).toBe(`${r.method} ${templated}: true`);
  }
  for (const m of http.matchAll(/^< \.\/(\S+)$/gm)) expect(readFileSync(path.join(REPO_ROOT, 'examples', m[1]), 'utf8').length).toBeGreaterThan(0);
});
