// Tests are transpiled by ts-jest (no type-check: `npm run typecheck` does that). ESM-only dependencies
// (kysely) are loaded as they are: Node 24 requires ES modules from CommonJS, and with
// --experimental-vm-modules (PGlite imports its parts dynamically) jest would run a CommonJS
// transpilation of them as a module ("exports is not defined").
// ts-jest rather than @swc/jest: the registry this project installs from serves no native binaries for
// other platforms, and a lockfile without them makes `npm ci` fail (see README, "Dependencies").
const transform = {
  '^.+\\.(t|j)sx?$': [
    'ts-jest',
    {
      tsconfig: { isolatedModules: true, module: 'commonjs', moduleResolution: 'node10', target: 'es2022', allowJs: true, esModuleInterop: true, sourceMap: true, ignoreDeprecations: '6.0' },
    },
  ],
};
const transformIgnorePatterns = ['/node_modules/'];
const common = { testEnvironment: '<rootDir>/test/support/environment.js', transform, transformIgnorePatterns, setupFiles: ['<rootDir>/test/support/env.ts'] };
module.exports = {
  // One test file at a time (they share the machine's PostgreSQL and CPU), in a worker process that is
  // replaced once it holds more than this after a file: each file loads the R4 definitions afresh, and
  // a single process running every file in band ran out of heap.
  workerIdleMemoryLimit: '1GB',
  // Servers start on fresh databases (migrations, validator warm-up): hooks get time on a loaded 2-core machine.
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/**/*.test.ts'], testPathIgnorePatterns: ['/test/examples/'] },
    { ...common, displayName: 'examples', testMatch: ['<rootDir>/test/examples/**/*.test.ts'] },
  ],
};
