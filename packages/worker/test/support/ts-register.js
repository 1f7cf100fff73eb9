// Lets a child process of a test run the TypeScript sources directly (`node -r ./ts-register.js
// file.ts`), so end-to-end tests never run a stale build. Mirrors jest's setup: transpile only,
// `@farm/<pkg>` mapped to that package's src/index.ts.
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const ts = require('typescript');

const packagesDir = path.resolve(__dirname, '../../..');
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const match = /^@farm\/(core|manager|worker|submitter-cli)$/.exec(request);
  if (match) request = path.join(packagesDir, match[1], 'src', 'index.ts');
  return originalResolve.call(this, request, parent, ...rest);
};

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap: false,
      inlineSourceMap: true,
    },
  });
  module._compile(outputText, filename);
};
