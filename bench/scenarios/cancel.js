'use strict';
// cancel: real farm-worker processes run `sleep 30` tasks; time from POST .../actions {cancel}
// to each `sleep` process being gone (killed and reaped, or a zombie).
const { spawn } = require('node:child_process');
const { setImmediate } = require('node:timers');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startBackend, submitFramesJob } = require('../lib/backend');
const { ROOT, sleep } = require('../lib/manager');
const { summarize, target } = require('../lib/stats');
const { log } = require('../lib/log');

const WORKER_MAIN = path.join(ROOT, 'packages/worker/dist/main.js');

function processTable() {
  const table = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.push({ pid: Number(entry), comm, state: fields[0], ppid: Number(fields[1]) });
    } catch {
      // Gone while reading.
    }
  }
  return table;
}

/** Live `sleep` processes below each worker pid. */
function sleepsBelow(workerPids) {
  const table = processTable();
  const children = new Map();
  for (const p of table) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(p);
  }
  const found = [];
  for (const root of workerPids) {
    const stack = [root];
    while (stack.length) {
      for (const child of children.get(stack.pop()) ?? []) {
        if (child.comm === 'sleep' && child.state !== 'Z') found.push(child.pid);
        stack.push(child.pid);
      }
    }
  }
  return found;
}

function isGone(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return true;
  }
}

async function runCancel({ backend, workers: workerCount, cancels }) {
  if (!fs.existsSync(WORKER_MAIN))
    throw new Error('packages/worker/dist/main.js is missing (npm run build)');
  const farm = await startBackend(backend, { label: `cancel_${backend}` });
  const workers = [];
  const dirs = [];
  try {
    for (let i = 0; i < workerCount; i++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-bench-worker-'));
      dirs.push(dir);
      const child = spawn(
        process.execPath,
        [
          WORKER_MAIN,
          ...['--manager', farm.manager.url, '--name', `cancel-bench-${i}`, '--data-dir', dir],
          ...['--registration-secret', farm.manager.registrationSecret, '--no-discovery'],
          ...['--task-types', 'misc'],
        ],
        { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, FARM_LOG_LEVEL: 'warn' } },
      );
      workers.push(child);
    }
    const pids = workers.map((w) => w.pid);
    const rounds = Math.max(1, Math.ceil(cancels / workerCount));
    const killMs = [];
    const requestMs = [];
    const startWaitMs = [];
    for (let round = 0; round < rounds; round++) {
      const submitted = await submitFramesJob(farm.api, {
        name: `cancel ${round}`,
        frames: `1-${workerCount}`,
        command: 'sleep 30',
      });
      const waitStart = performance.now();
      let running = [];
      while (running.length < workerCount) {
        if (performance.now() - waitStart > 60000) {
          throw new Error(
            `only ${running.length} of ${workerCount} workers started their sleep in 60 s`,
          );
        }
        await sleep(20);
        running = sleepsBelow(pids);
      }
      startWaitMs.push(performance.now() - waitStart);
      const t0 = performance.now();
      const request = farm
        .api('POST', `/api/v1/jobs/${submitted.job.id}/actions`, { action: 'cancel' }, 200)
        .then(() => requestMs.push(performance.now() - t0));
      const alive = new Set(running);
      const deadline = t0 + 30000;
      while (alive.size && performance.now() < deadline) {
        for (const pid of alive) {
          if (isGone(pid)) {
            killMs.push(performance.now() - t0);
            alive.delete(pid);
          }
        }
        await new Promise((r) => setImmediate(r));
      }
      for (let i = 0; i < alive.size; i++) killMs.push(30000);
      await request;
      log(`cancel: round ${round + 1}/${rounds}: ${running.length} sleeps gone`);
      // Let the workers report the canceled tasks and go back to claiming.
      await sleep(300);
    }
    const kill = summarize(killMs);
    return {
      figures: {
        backend,
        realWorkers: workerCount,
        cancels: killMs.length,
        cancelToProcessGoneMs: kill,
        cancelRequestMs: summarize(requestMs),
        submitToAllRunningMs: summarize(startWaitMs),
      },
      targets: [target('p99 cancel to process killed ms', kill.p99 ?? null, 1000, 'max')],
    };
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
    await Promise.all(
      workers.map((w) => (w.exitCode === null ? new Promise((r) => w.once('exit', r)) : null)),
    );
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    await farm.finish();
  }
}

module.exports = { runCancel };
