'use strict';
// fleet: thousands of idle workers, registered, signed on and holding their websockets open;
// the manager's CPU over a quiet window and its memory.
//
// FARM_BENCH_FLEET_PROFILE=1 runs the manager with --cpu-prof and summarises the samples of the
// quiet window only (the sampler costs the manager a little CPU, so not by default).
// FARM_BENCH_FLEET_HOST_STATS=1 sends host stats with every heartbeat, as farm-worker does.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startBackend } = require('../lib/backend');
const { summarizeNewestProfile } = require('../lib/cpu-profile');
const { startLoadGenerator } = require('../lib/load-generator');
const { startCpuWindow, memoryMb } = require('../lib/proc');
const { target } = require('../lib/stats');

// Why an idle fleet costs what it does: its requests per second and the manager's CPU per request.
function idleWhy(cpuUse, heartbeats, measureMs) {
  const seconds = measureMs / 1000;
  const beats = (heartbeats.latencyMs.count ?? 0) / seconds;
  const claims = (heartbeats.idleClaims?.asked ?? 0) / seconds;
  const perRequest =
    beats + claims > 0
      ? Math.round((cpuUse.managerCpuPercentOfOneCore * 1e4) / (beats + claims))
      : null;
  return (
    `${Math.round(beats)} heartbeats/s and ${Math.round(claims)} idle claims/s (each a claim ` +
    `statement: Postgres ${cpuUse.postgresCpuPercentOfOneCore} % of a core) at ${perRequest} µs ` +
    `of manager CPU per request, socket write and wake-up included`
  );
}
const { log } = require('../lib/log');
const { sleep } = require('../lib/manager');

// An idle farm-worker beats every 30 s (every 10 s while it runs a task; docs/decisions/0028).
// FARM_BENCH_FLEET_HEARTBEAT_MS=10000 measures the beat of busy workers instead.
const HEARTBEAT_MS = Number(process.env.FARM_BENCH_FLEET_HEARTBEAT_MS || 30000);
// An idle farm-worker's claim is held this long (its `claimWaitMs`); 0 leaves claims out.
const IDLE_CLAIM_WAIT_MS = Number(process.env.FARM_BENCH_FLEET_CLAIM_WAIT_MS ?? 50000);
// Profile samples this close to the window's edges are left out: the edges are known only
// roughly in the profile's clock (see the end of runFleet).
const PROFILE_EDGE_MS = 1000;

async function runFleet({
  backend,
  workers,
  measureMs,
  setupLimitMs,
  profile = process.env.FARM_BENCH_FLEET_PROFILE === '1',
  hostStats = process.env.FARM_BENCH_FLEET_HOST_STATS === '1',
}) {
  const cpuProfDir = profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'farm-bench-prof-')) : null;
  const farm = await startBackend(backend, { label: `fleet_${backend}`, cpuProfDir });
  let load;
  let windowEndedAt = null;
  let windowMs = null;
  let result = null;
  try {
    const before = memoryMb(farm.manager.pid);
    load = startLoadGenerator('fleet');
    log(`fleet: registering and connecting ${workers} workers`);
    const ready = await load.setup({
      url: farm.manager.url,
      secret: farm.manager.registrationSecret,
      workers,
      transport: 'ws',
      namePrefix: 'fleet',
      concurrency: 100,
      limitMs: setupLimitMs,
      // Idle workers beat as farm-worker does; without beats the manager would time the workers
      // out after a minute (worker_timeout) and the window would measure that instead.
      heartbeatMs: HEARTBEAT_MS,
      heartbeatHostStats: hostStats,
      // And, as farm-worker, a claim held open by the manager, asked again when it ends.
      idleClaimWaitMs: IDLE_CLAIM_WAIT_MS,
    });
    await sleep(2000);
    log(
      `fleet: ${ready.workers} workers connected; measuring the manager for ${measureMs / 1000} s`,
    );
    await load.heartbeats();
    const cpu = startCpuWindow(farm.manager.pid);
    await sleep(measureMs);
    const cpuUse = cpu();
    windowEndedAt = performance.now();
    windowMs = cpuUse.seconds * 1000;
    const heartbeats = await load.heartbeats();
    const memory = memoryMb(farm.manager.pid);
    const heartbeatsPerSecond = (heartbeats.latencyMs.count ?? 0) / Math.max(cpuUse.seconds, 1);
    result = {
      figures: {
        backend,
        workersRequested: workers,
        workers: ready.workers,
        setupStoppedByTimeLimit: ready.stoppedByTimeLimit,
        setupFailures: ready.failures,
        setupLimitMs,
        setupMs: ready.setupMs,
        workersSetUpPerSecond: Math.round((ready.workers / ready.setupMs) * 1000),
        registerLatencyMs: ready.registerLatencyMs,
        connectAndSignOnLatencyMs: ready.connectAndSignOnLatencyMs,
        heartbeatEveryMs: HEARTBEAT_MS,
        heartbeatsWithHostStats: hostStats,
        heartbeatsInWindow: heartbeats.latencyMs.count ?? 0,
        heartbeatLatencyMs: heartbeats.latencyMs,
        heartbeatErrors: heartbeats.errors,
        idleClaimsInWindow: heartbeats.idleClaims,
        idleWindow: cpuUse,
        // All of the manager's CPU in the window, divided by the heartbeats answered in it.
        managerCpuMicrosecondsPerHeartbeat:
          heartbeatsPerSecond > 0
            ? Math.round((cpuUse.managerCpuPercentOfOneCore * 1e4) / heartbeatsPerSecond)
            : null,
        managerRssMbBeforeWorkers: before.rssMb,
        managerRssMbIdle: memory.rssMb,
        managerPeakRssMb: memory.peakRssMb,
        rssKbPerWorker: Math.round(
          ((memory.rssMb - before.rssMb) * 1024) / Math.max(ready.workers, 1),
        ),
      },
      targets: [
        target('idle workers connected', ready.workers, workers, 'min'),
        target(
          'idle manager CPU % of one core',
          cpuUse.managerCpuPercentOfOneCore,
          5,
          'max',
          idleWhy(cpuUse, heartbeats, measureMs),
        ),
        target('manager RSS MB', memory.rssMb, 500, 'max'),
      ],
    };
  } finally {
    if (load) await load.stop();
    await farm.finish();
    // A failed run leaves no profile folder behind.
    if (cpuProfDir && !result) fs.rmSync(cpuProfDir, { recursive: true, force: true });
  }
  if (cpuProfDir) {
    // The profile ends when the manager exits, just now: count the window back from here.
    const sinceWindowEnd = performance.now() - windowEndedAt;
    result.figures.cpuProfile = summarizeNewestProfile(cpuProfDir, 30, {
      fromEndMs: sinceWindowEnd + windowMs - PROFILE_EDGE_MS,
      toEndMs: sinceWindowEnd + PROFILE_EDGE_MS,
    });
    fs.rmSync(cpuProfDir, { recursive: true, force: true });
  }
  return result;
}

module.exports = { runFleet };
