// Node 24 LTS everywhere (issue 14, item 7): engines, the `node` devDependency that npm scripts run on,
// the Docker image, and this very test run.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
  allowScripts: Record<string, boolean>;
};

test('the tests run on Node 24 or later', () => {
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
});

test('engines, the pinned runtime package and the Docker image agree on Node 24', () => {
  expect(pkg.engines.node).toBe('>=24');
  expect(pkg.devDependencies.node).toMatch(/^24\.\d+\.\d+$/);
  // Its install script fetches the binary; npm must be allowed to run it.
  expect(pkg.allowScripts.node).toBe(true);
  const from = [...readFileSync(path.join(root, 'Dockerfile'), 'utf8').matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  expect(from).toEqual(['node:24-bookworm-slim', 'node:24-bookworm-slim']);
});
