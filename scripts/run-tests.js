#!/usr/bin/env node
// Runs jest with the Node flag PGlite needs: its CommonJS build loads its WebAssembly files with a
// dynamic import(), which jest only allows under --experimental-vm-modules (docs/decisions).
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const jestBin = require.resolve('jest/bin/jest');
const nodeOptions = [
  process.env.NODE_OPTIONS,
  '--experimental-vm-modules',
  '--no-warnings=ExperimentalWarning',
]
  .filter(Boolean)
  .join(' ');
const result = spawnSync(process.execPath, [jestBin, ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: path.join(__dirname, '..'),
  env: { ...process.env, NODE_OPTIONS: nodeOptions },
});
process.exit(result.status ?? 1);
