'use strict';
// The load generator: a separate Node process (forked by the scenarios) holding N simulated
// workers, so its CPU is not counted as the manager's. Driven over IPC:
//   {cmd:'setup', url, secret, workers, transport, namePrefix, concurrency}  -> {type:'ready'}
//   {cmd:'dispatch', totalTasks, maxDurationMs, logLines}                   -> {type:'dispatched'}
//   {cmd:'stop'}                                                             -> exits
const { createHttpClient } = require('../lib/http-client');
const { summarize } = require('../lib/stats');
const { registerWorker, connectSocketWorker, httpWorker, signOn } = require('./sim-worker');

let http;
let workers = [];
const pushes = { 'work-available': 0, 'stop-task': 0, 'status-request': 0, other: 0 };

function send(message) {
  process.send(message);
}

async function inBatches(items, concurrency, fn) {
  let next = 0;
  const results = new Array(items.length);
  async function lane() {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

// Like farm-worker: a heartbeat every `everyMs`, the first after a random part of it so that
// thousands of workers do not beat in step.
// With `hostStats`, each heartbeat carries host stats shaped like farm-worker's.
const idleClaims = { asked: 0, answered: {} };

// As farm-worker when idle: a claim held up to `waitMs` by the manager, asked again at once
// after a 204 (the first one at a random moment, so the fleet does not ask all at once).
function startIdleClaims(worker, waitMs) {
  const ask = async () => {
    if (worker.closed) return;
    idleClaims.asked++;
    const r = await worker.call('claim', { waitMs }).catch(() => ({ status: 'error' }));
    idleClaims.answered[r.status] = (idleClaims.answered[r.status] || 0) + 1;
    if (r.status === 204 && !worker.closed) void ask();
  };
  worker.idleClaimTimer = setTimeout(() => void ask(), Math.random() * waitMs);
}

function startHeartbeats(worker, everyMs, hostStats = false) {
  const beat = async () => {
    const t = performance.now();
    const r = await worker.call('heartbeat', hostStats ? { hostStats: sampleHostStats() } : {});
    heartbeatLatency.push(performance.now() - t);
    if (r.status !== 200) heartbeatErrors[r.status] = (heartbeatErrors[r.status] || 0) + 1;
  };
  worker.heartbeatTimer = setTimeout(function tick() {
    beat().catch(() => {});
    worker.heartbeatTimer = setTimeout(tick, everyMs);
  }, Math.random() * everyMs);
}
let heartbeatLatency = [];
const heartbeatErrors = {};

function sampleHostStats() {
  return {
    cpuPercent: Math.round(Math.random() * 1000) / 10,
    memoryUsedBytes: 8e9 + Math.floor(Math.random() * 1e9),
    memoryTotalBytes: 34359738368,
    load1: Math.round(Math.random() * 400) / 100,
    diskFreeBytes: 512e9 + Math.floor(Math.random() * 1e9),
    at: new Date().toISOString(),
  };
}

async function setup({
  url,
  secret,
  workers: count,
  transport,
  namePrefix,
  concurrency = 50,
  limitMs = null,
  heartbeatMs = null,
  heartbeatHostStats = false,
  // An idle farm-worker also holds a claim open (a long poll of this many ms) and asks again
  // when it ends: the manager runs a claim statement for it at each ask.
  idleClaimWaitMs = null,
}) {
  const started = performance.now();
  const deadline = limitMs === null ? Infinity : started + limitMs;
  http = createHttpClient(url, {
    maxSockets: Math.max(concurrency, transport === 'http' ? count : 0),
  });
  const names = Array.from({ length: count }, (_, i) => `${namePrefix}-${i}`);
  const registerLatency = [];
  const connectLatency = [];
  // Each lane registers, connects and signs on one worker after another, so a time limit leaves
  // only fully connected workers behind.
  const failures = {};
  const connected = await inBatches(names, concurrency, async (name) => {
    if (performance.now() > deadline) return null;
    try {
      return await setUpOne(name);
    } catch (error) {
      // One worker that fails to set up is counted, not fatal: the scenario reports how many did.
      const key = String(error.message || error).slice(0, 120);
      failures[key] = (failures[key] || 0) + 1;
      return null;
    }
  });
  async function setUpOne(name) {
    let t = performance.now();
    const { token } = await registerWorker(http, secret, name);
    registerLatency.push(performance.now() - t);
    t = performance.now();
    const state = { wake: null };
    const onPush = (message) => {
      pushes[message.type] !== undefined ? pushes[message.type]++ : pushes.other++;
      if (message.type === 'work-available' && state.wake) state.wake();
    };
    const worker =
      transport === 'ws'
        ? await connectSocketWorker(url, name, token, onPush)
        : httpWorker(http, name, token);
    worker.state = state;
    await signOn(worker);
    connectLatency.push(performance.now() - t);
    if (heartbeatMs) startHeartbeats(worker, heartbeatMs, heartbeatHostStats);
    if (idleClaimWaitMs) startIdleClaims(worker, idleClaimWaitMs);
    return worker;
  }
  workers = connected.filter(Boolean);
  send({
    type: 'ready',
    workers: workers.length,
    requested: count,
    stoppedByTimeLimit: workers.length + Object.values(failures).reduce((a, b) => a + b, 0) < count,
    failures,
    setupMs: Math.round(performance.now() - started),
    registerLatencyMs: summarize(registerLatency),
    connectAndSignOnLatencyMs: summarize(connectLatency),
  });
}

function waitForWork(worker, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      worker.state.wake = null;
      resolve();
    }
    worker.state.wake = done;
  });
}

async function dispatch({ totalTasks, maxDurationMs, idleSleepMs = 50 }) {
  const latency = { claim: [], claimEmpty: [], start: [], log: [], complete: [] };
  const errors = {};
  const timeline = [];
  const claimsByJob = [];
  let completed = 0;
  let claimed = 0;
  const started = performance.now();
  const deadline = started + maxDurationMs;
  let firstCompleteAt = null;
  let lastCompleteAt = started;
  const completionTimes = [];
  let stop = false;

  const error = (what, r) => {
    const key = `${what} ${r.status}${r.body && r.body.code ? ` ${r.body.code}` : ''}`;
    errors[key] = (errors[key] || 0) + 1;
  };

  async function timed(list, fn) {
    const t = performance.now();
    const r = await fn();
    list.push(performance.now() - t);
    return r;
  }

  async function loop(worker) {
    while (!stop) {
      if (performance.now() > deadline) {
        stop = true;
        break;
      }
      const t = performance.now();
      const claim = await worker.call('claim', { waitMs: 0 });
      const claimMs = performance.now() - t;
      if (claim.status === 200) {
        latency.claim.push(claimMs);
        claimed++;
        const task = claim.body;
        const second = Math.floor((performance.now() - started) / 1000);
        (claimsByJob[second] ||= {})[task.jobId] =
          ((claimsByJob[second] || {})[task.jobId] || 0) + 1;
        const a = await timed(latency.start, () =>
          worker.call('updateTask', { status: 'active' }, task.id),
        );
        if (a.status !== 204) error('start', a);
        const l = await timed(latency.log, () =>
          worker.call('updateTask', { log: `${task.name}: frame done\n`, progress: 0.5 }, task.id),
        );
        if (l.status !== 204) error('log', l);
        const c = await timed(latency.complete, () =>
          worker.call('updateTask', { status: 'completed' }, task.id),
        );
        if (c.status !== 204) {
          error('complete', c);
          continue;
        }
        completed++;
        const now = performance.now();
        firstCompleteAt ??= now;
        lastCompleteAt = now;
        completionTimes.push(now - started);
        const s = Math.floor((now - started) / 1000);
        timeline[s] = (timeline[s] || 0) + 1;
        if (completed >= totalTasks) stop = true;
      } else if (claim.status === 204) {
        latency.claimEmpty.push(claimMs);
        if (completed >= totalTasks) break;
        if (worker.transport === 'ws') await waitForWork(worker, 500);
        else await new Promise((r) => setTimeout(r, idleSleepMs));
      } else if (claim.status === 423) {
        const status =
          claim.body?.details?.statusRequested ?? claim.body?.statusRequested ?? 'awake';
        await worker.call('stateChanged', { status });
        error('claim', claim);
      } else {
        error('claim', claim);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  const progress = setInterval(() => {
    send({
      type: 'progress',
      completed,
      seconds: Math.round((performance.now() - started) / 1000),
    });
  }, 5000);
  // At the time limit, in-flight requests are not waited for (their latencies are left out).
  let limitTimer;
  const limit = new Promise((r) => {
    limitTimer = setTimeout(() => {
      stop = true;
      r();
    }, maxDurationMs + 1000);
  });
  await Promise.race([Promise.all(workers.map(loop)), limit]);
  clearTimeout(limitTimer);
  clearInterval(progress);
  const seconds = (lastCompleteAt - started) / 1000;
  // The steady rate leaves out the ramp-up and the tail (the middle 80 % of completions).
  let steady = null;
  if (completionTimes.length >= 100) {
    const a = completionTimes[Math.floor(completionTimes.length * 0.1)];
    const b = completionTimes[Math.floor(completionTimes.length * 0.9)];
    steady = b > a ? Math.round(((completionTimes.length * 0.8) / (b - a)) * 1000) : null;
  }
  send({
    type: 'dispatched',
    completed,
    claimed,
    timedOut: completed < totalTasks,
    seconds: Math.round(seconds * 100) / 100,
    lifecyclesPerSecond: seconds > 0 ? Math.round(completed / seconds) : null,
    steadyLifecyclesPerSecond: steady,
    latencyMs: Object.fromEntries(Object.entries(latency).map(([k, v]) => [k, summarize(v)])),
    errors,
    pushes: { ...pushes },
    completedPerSecond: Array.from(timeline, (v) => v || 0),
    claimsByJobPerSecond: Array.from(claimsByJob, (v) => v || {}),
  });
}

process.on('message', (message) => {
  const run = async () => {
    if (message.cmd === 'setup') await setup(message);
    else if (message.cmd === 'dispatch') await dispatch(message);
    else if (message.cmd === 'heartbeats') {
      // Heartbeat latencies since the last ask, then start a new window.
      send({
        type: 'heartbeats',
        latencyMs: summarize(heartbeatLatency),
        errors: { ...heartbeatErrors },
        idleClaims: { asked: idleClaims.asked, answered: { ...idleClaims.answered } },
      });
      heartbeatLatency = [];
      idleClaims.asked = 0;
      idleClaims.answered = {};
    } else if (message.cmd === 'stop') {
      for (const w of workers) {
        clearTimeout(w.heartbeatTimer);
        clearTimeout(w.idleClaimTimer);
        w.closed = true;
        w.close();
      }
      http?.close();
      setTimeout(() => process.exit(0), 200);
    }
  };
  run().catch((error) => {
    send({ type: 'error', message: String(error.stack || error) });
  });
});
