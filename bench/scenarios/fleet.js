'use strict';
// fleet: thousands of idle workers, registered, signed on and holding their websockets open;
// the manager's CPU over a quiet window and its memory.
const { startBackend } = require('../lib/backend');
const { startLoadGenerator } = require('../lib/load-generator');
const { startCpuWindow, memoryMb } = require('../lib/proc');
const { target } = require('../lib/stats');
const { log } = require('../lib/log');
const { sleep } = require('../lib/manager');

const HEARTBEAT_MS = 10000;

async function runFleet({ backend, workers, measureMs, setupLimitMs }) {
  const farm = await startBackend(backend, { label: `fleet_${backend}` });
  let load;
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
      // farm-worker sends a heartbeat every 10 s; without them the manager would time the
      // workers out after a minute (worker_timeout) and the window would measure that instead.
      heartbeatMs: HEARTBEAT_MS,
    });
    await sleep(2000);
    log(
      `fleet: ${ready.workers} workers connected; measuring the manager for ${measureMs / 1000} s`,
    );
    await load.heartbeats();
    const cpu = startCpuWindow(farm.manager.pid);
    await sleep(measureMs);
    const cpuUse = cpu();
    const heartbeats = await load.heartbeats();
    const memory = memoryMb(farm.manager.pid);
    return {
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
        heartbeatsInWindow: heartbeats.latencyMs.count ?? 0,
        heartbeatLatencyMs: heartbeats.latencyMs,
        heartbeatErrors: heartbeats.errors,
        idleWindow: cpuUse,
        managerRssMbBeforeWorkers: before.rssMb,
        managerRssMbIdle: memory.rssMb,
        managerPeakRssMb: memory.peakRssMb,
        rssKbPerWorker: Math.round(
          ((memory.rssMb - before.rssMb) * 1024) / Math.max(ready.workers, 1),
        ),
      },
      targets: [
        target('idle workers connected', ready.workers, workers, 'min'),
        target('idle manager CPU % of one core', cpuUse.managerCpuPercentOfOneCore, 5, 'max'),
        target('manager RSS MB', memory.rssMb, 500, 'max'),
      ],
    };
  } finally {
    if (load) await load.stop();
    await farm.finish();
  }
}

module.exports = { runFleet };
