'use strict';
// replicas: the dispatch lifecycle against 1, 2 and 3 manager processes on one Postgres database,
// reached through a round-robin proxy (bench/lib/round-robin-proxy.js), to show how throughput
// scales with replicas. Each replica is a separate process; claims stay safe across them (one
// statement, FOR UPDATE SKIP LOCKED) and events cross them by NOTIFY.
const pg = require('../lib/postgres');
const { startManager } = require('../lib/manager');
const { createHttpClient, expectStatus } = require('../lib/http-client');
const { submitFramesJob } = require('../lib/backend');
const { startLoadGenerator } = require('../lib/load-generator');
const { startRoundRobinProxy } = require('../lib/round-robin-proxy');
const { startCpuWindow } = require('../lib/proc');
const { round2 } = require('../lib/stats');
const { log } = require('../lib/log');

async function runOnce({ replicas, workers, tasks, maxDurationMs }) {
  const label = `replicas-${replicas}`;
  const database = await pg.createDatabase(`replicas${replicas}`);
  const managers = [];
  let proxy = null;
  let load = null;
  let http = null;
  try {
    // The first replica migrates the database and creates the admin; the others join it.
    for (let i = 0; i < replicas; i++) {
      managers.push(
        await startManager({
          databaseUrl: database.url,
          label: `${label} manager ${i + 1}`,
          waitForAdminToken: i === 0,
        }),
      );
    }
    proxy = await startRoundRobinProxy(managers.map((m) => m.url));
    http = createHttpClient(proxy.url, { maxSockets: 16 });
    const api = async (method, path, body, expected) =>
      expectStatus(
        await http.request(method, path, { token: managers[0].adminToken, body }),
        expected,
        `${method} ${path}`,
      );
    await submitFramesJob(api, { name: label, frames: `1-${tasks}` });
    load = startLoadGenerator(label);
    log(`${label}: connecting ${workers} workers through the proxy`);
    await load.setup({
      url: proxy.url,
      secret: managers[0].registrationSecret,
      workers,
      transport: 'ws',
      namePrefix: `bench-${label}`,
    });
    const cpu = managers.map((m) => startCpuWindow(m.pid));
    log(`${label}: running`);
    const result = await load.dispatch({ totalTasks: tasks, maxDurationMs });
    const cpuUse = cpu.map((window) => window());
    return {
      replicas,
      workers,
      tasks,
      lifecyclesCompleted: result.completed,
      stoppedByTimeLimit: result.timedOut,
      seconds: result.seconds,
      steadyLifecyclesPerSecond: result.steadyLifecyclesPerSecond ?? result.lifecyclesPerSecond,
      claimLatencyMs: result.latencyMs.claim,
      errors: result.errors,
      connectionsPerReplica: proxy.connectionsPerTarget(),
      managerCpuPercentOfOneCore: cpuUse.map((c) => c.managerCpuPercentOfOneCore),
    };
  } finally {
    if (load) await load.stop().catch(() => {});
    http?.close();
    await proxy?.close();
    for (const manager of managers) await manager.stop().catch(() => {});
    await database.drop().catch(() => {});
  }
}

/** Runs 1, 2 and 3 replicas back to back and reports each rate and its ratio to one replica. */
async function runReplicas({ counts = [1, 2, 3], workers, tasks, maxDurationMs }) {
  const runs = [];
  for (const replicas of counts) {
    const run = await runOnce({ replicas, workers, tasks, maxDurationMs });
    log(`replicas-${replicas}: ${run.steadyLifecyclesPerSecond} lifecycles/s`);
    runs.push(run);
  }
  const base = runs[0]?.steadyLifecyclesPerSecond || null;
  for (const run of runs) {
    run.speedupOverOneReplica = base ? round2(run.steadyLifecyclesPerSecond / base) : null;
  }
  return {
    figures: {
      note: 'all replicas and Postgres share the same 2 cores, so more replicas add processes, not CPU',
      runs,
    },
    targets: [],
  };
}

module.exports = { runReplicas };
