// Lets a child process run the TypeScript sources directly (`node -r ./test/support/ts-register.js src/main.ts`),
// so process-level tests (signals, crashes, cluster workers) need no build step. Transpile only, no type-check.
const fs = require('node:fs');
const ts = require('typescript');

const options = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  isolatedModules: true,
  resolveJsonModule: true,
  sourceMap: false,
};

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: options, fileName: filename });
  module._compile(outputText, filename);
};
