// ESM-only dependencies (kysely) are transformed to CommonJS for jest; at run time
// Node 20.19+ loads them with require(esm).
const transform = {
  '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
};
const transformIgnorePatterns = ['/node_modules/(?!(kysely)/)'];
// Servers start on fresh databases (migrations, validator warm-up): hooks get time on a loaded 2-core machine.
const common = { testEnvironment: 'node', transform, transformIgnorePatterns, setupFiles: ['<rootDir>/test/support/env.ts'] };
module.exports = {
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/**/*.test.ts'], testPathIgnorePatterns: ['/test/examples/'] },
    { ...common, displayName: 'examples', testMatch: ['<rootDir>/test/examples/**/*.test.ts'] },
  ],
};
