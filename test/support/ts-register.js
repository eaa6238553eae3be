// Lets a child process run the TypeScript sources directly (`node -r ./test/support/ts-register.js src/main.ts`),
// so process-level tests (signals, crashes, cluster workers) need no build step. Transpile only, no type-check;
// the output is cached on disk by content hash, so a cluster's workers and later tests do not transpile again.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const options = { module: 1 /* CommonJS */, target: 9 /* ES2022 */, esModuleInterop: true, isolatedModules: true, resolveJsonModule: true, sourceMap: false };
const cacheDir = path.join(os.tmpdir(), 'nhis-ts-cache');
let ts;

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha256').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let output;
  try {
    output = fs.readFileSync(cached, 'utf8');
  } catch {
    ts ??= require('typescript');
    output = ts.transpileModule(source, { compilerOptions: options, fileName: filename }).outputText;
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, output);
    fs.renameSync(tmp, cached);
  }
  module._compile(output, filename);
};
