'use strict';
// Starts a real manager as a child process (`node packages/manager/dist/main.js`), so its CPU and
// memory can be read from /proc, and stops it again.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { log } = require('./log');

const ROOT = path.resolve(__dirname, '..', '..');
// FARM_BENCH_MANAGER_MAIN runs another build (a copy of an earlier dist, for before/after pairs).
const MANAGER_MAIN =
  process.env.FARM_BENCH_MANAGER_MAIN || path.join(ROOT, 'packages/manager/dist/main.js');
const REGISTRATION_SECRET = 'bench-registration-secret';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, probe, timeoutMs, child) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${what}: the manager exited early`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Starts a manager on `databaseUrl` (Postgres) or on a fresh embedded PGlite database when it is
 * null. `cpuProfDir` turns on V8's CPU profiler for the child (written when it exits).
 */
async function startManager({
  databaseUrl = null,
  cpuProfDir = null,
  label = 'manager',
  copyDataDirFrom = null,
  // A further replica on a database that already has its admin writes no token file.
  waitForAdminToken = true,
} = {}) {
  if (!fs.existsSync(MANAGER_MAIN)) throw new Error('the manager is not built (npm run build)');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-bench-'));
  if (copyDataDirFrom) fs.cpSync(copyDataDirFrom, dataDir, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const args = [
    ...nodeArgs,
    MANAGER_MAIN,
    ...['--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir],
    ...['--no-discovery', '--no-local-worker'],
  ];
  const env = {
    ...process.env,
    FARM_LOG_LEVEL: 'warn',
    FARM_LOG_FORMAT: 'json',
    FARM_REGISTRATION_SECRET: REGISTRATION_SECRET,
  };
  delete env.DATABASE_URL;
  delete env.FARM_DATABASE_URL;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  // The fleet scenario holds thousands of sockets: give the child the hard limit of open files.
  const child = spawn(
    'sh',
    ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, ...args],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const stderrTail = [];
  let warnings = 0;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    for (const line of chunk.split('\n')) {
      if (!line) continue;
      warnings++;
      stderrTail.push(line.slice(0, 500));
      if (stderrTail.length > 20) stderrTail.shift();
      if (process.env.FARM_BENCH_VERBOSE) log(`[${label}] ${line}`);
    }
  });
  const startedAt = Date.now();
  try {
    await waitFor(
      `${label} health`,
      async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined),
      120000,
      child,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${error.message}; manager stderr: ${stderrTail.join('\n')}`);
  }
  const tokenFile = path.join(dataDir, 'admin-token');
  const adminToken = !waitForAdminToken
    ? null
    : await waitFor(
        'the admin token',
        async () =>
          fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8').trim() : undefined,
        10000,
      );
  log(`${label} up on ${url} (pid ${child.pid}) in ${Date.now() - startedAt} ms`);
  return {
    url,
    pid: child.pid,
    dataDir,
    adminToken,
    registrationSecret: REGISTRATION_SECRET,
    startMs: Date.now() - startedAt,
    warnings: () => ({ lines: warnings, last: stderrTail.slice(-5) }),
    async stop({ keepDataDir = false } = {}) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
        await exited;
        clearTimeout(timer);
      }
      if (!keepDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

module.exports = { startManager, ROOT, sleep, waitFor };
