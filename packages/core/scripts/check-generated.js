#!/usr/bin/env node
// CI check: regenerates the API artefacts into a temporary folder and compares them with the
// committed ones in src/generated (or the folder given with --against, for tests). Exits 1 and
// names the stale files when they differ.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { generate, GENERATED_DIR } = require('./generate');

function parseAgainst(argv) {
  const index = argv.indexOf('--against');
  return index >= 0 && argv[index + 1] ? path.resolve(argv[index + 1]) : GENERATED_DIR;
}

function displayPath(dir) {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith('..') ? relative : dir;
}

async function main() {
  const committedDir = parseAgainst(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-gen-'));
  try {
    const fresh = await generate(tmp);
    const stale = [];
    for (const file of fresh) {
      const name = path.basename(file);
      const committed = path.join(committedDir, name);
      if (!fs.existsSync(committed)) stale.push(`${name} (missing)`);
      else if (fs.readFileSync(committed, 'utf8') !== fs.readFileSync(file, 'utf8'))
        stale.push(name);
    }
    if (stale.length > 0) {
      console.error(
        `Generated API files are stale in ${displayPath(committedDir)}: ${stale.join(', ')}.\n` +
          'openapi/openapi.yaml (or the generator) changed without regenerating. Run\n' +
          '  npm run gen -w @farm/core\n' +
          'and commit the result.',
      );
      process.exitCode = 1;
    } else {
      console.log(`Generated API files are up to date (${fresh.length} files).`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
