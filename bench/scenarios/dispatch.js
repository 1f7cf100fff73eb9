'use strict';
// dispatch: N simulated workers (one forked process) run claim -> active -> one log update ->
// completed against one manager process, over the worker websocket or the HTTP worker endpoints.
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { startBackend, submitFramesJob } = require('../lib/backend');
const { startLoadGenerator } = require('../lib/load-generator');
const { startCpuWindow, memoryMb } = require('../lib/proc');
const { summarizeNewestProfile } = require('../lib/cpu-profile');
const { target, round2, limitOf } = require('../lib/stats');
const { log } = require('../lib/log');
const { startActivitySampler } = require('../lib/pg-activity');

/**
 * Runs one dispatch measurement. `tasks` lifecycles are the goal; the run stops at
 * `maxDurationMs` and reports the rate it reached.
 */
async function runDispatch({
  backend,
  transport,
  workers,
  tasks,
  jobs = 1,
  maxDurationMs,
  targetRate,
  profile,
}) {
  const label = `dispatch-${backend}-${transport}${jobs > 1 ? `-${jobs}jobs` : ''}${workers === 1 ? '-1worker' : ''}`;
  const jobSize = Math.ceil(tasks / jobs);
  const cpuProfDir = profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'farm-bench-prof-')) : null;
  const farm = await startBackend(backend, { label: label.replace(/-/g, '_'), cpuProfDir });
  let load;
  try {
    log(`${label}: submitting ${tasks} tasks`);
    const submissions = [];
    for (let first = 1; first <= tasks; first += jobSize) {
      const last = Math.min(tasks, first + jobSize - 1);
      submissions.push(
        await submitFramesJob(farm.api, {
          name: `${label} ${first}-${last}`,
          frames: `${first}-${last}`,
        }),
      );
    }
    load = startLoadGenerator(label);
    log(`${label}: registering and connecting ${workers} workers`);
    const ready = await load.setup({
      url: farm.manager.url,
      secret: farm.manager.registrationSecret,
      workers,
      transport,
      namePrefix: `bench-${transport}`,
    });
    await farm.markCommits();
    const cpu = startCpuWindow(farm.manager.pid, { loadGenerator: load.pid });
    const activity = farm.database ? startActivitySampler(farm.database.name) : null;
    log(`${label}: running`);
    const result = await load.dispatch({ totalTasks: tasks, maxDurationMs });
    const cpuUse = cpu();
    const postgresActivity = activity ? await activity.stop() : null;
    const memory = memoryMb(farm.manager.pid);
    await load.stop();
    load = null;
    const { commitsSinceMark, tableChangesSinceMark } = await farm.finish();
    const rate = result.steadyLifecyclesPerSecond ?? result.lifecyclesPerSecond;
    const claimP99 = result.latencyMs.claim.p99 ?? null;
    const figures = {
      backend,
      transport,
      workers,
      tasksSubmitted: tasks,
      jobs,
      ...(jobs > 1
        ? {
            jobsNote:
              'equal-priority jobs are claimed oldest first, so claims still meet on one job row',
          }
        : {}),
      submitMs: submissions.map((s) => s.ms),
      setupMs: ready.setupMs,
      registerLatencyMs: ready.registerLatencyMs,
      connectAndSignOnLatencyMs: ready.connectAndSignOnLatencyMs,
      lifecyclesCompleted: result.completed,
      stoppedByTimeLimit: result.timedOut,
      maxDurationMs,
      seconds: result.seconds,
      lifecyclesPerSecond: result.lifecyclesPerSecond,
      steadyLifecyclesPerSecond: result.steadyLifecyclesPerSecond,
      latencyMs: result.latencyMs,
      requestsPerSecond: round2(
        (result.claimed * 4 + (result.latencyMs.claimEmpty.count || 0)) /
          Math.max(result.seconds, 0.001),
      ),
      errors: result.errors,
      pushesReceived: result.pushes,
      cpu: cpuUse,
      managerRssMbAtEnd: memory.rssMb,
      managerPeakRssMb: memory.peakRssMb,
      postgresCommits: commitsSinceMark,
      postgresCommitsPerSecond:
        commitsSinceMark === null
          ? null
          : Math.round(commitsSinceMark / Math.max(result.seconds, 0.001)),
      postgresCommitsPerLifecycle:
        commitsSinceMark === null || !result.completed
          ? null
          : round2(commitsSinceMark / result.completed),
      postgresActivity,
      postgresRowChangesSinceStart: tableChangesSinceMark,
      completedPerSecond: result.completedPerSecond,
    };
    // targetRate null: an informational run (one worker alone) with no targets of its own.
    const perLifecycle =
      rate > 0 && cpuUse.managerCpuPercentOfOneCore !== undefined
        ? `; ${round2((cpuUse.managerCpuPercentOfOneCore * 10) / rate)} ms of manager CPU per lifecycle`
        : '';
    const targets =
      targetRate === null
        ? []
        : [
            target(
              'lifecycles per second (steady)',
              rate,
              targetRate,
              'min',
              `${limitOf(cpuUse)}${perLifecycle}`,
            ),
          ];
    if (backend === 'postgres' && targetRate !== null)
      targets.push(
        target(
          'p99 claim latency ms',
          claimP99,
          20,
          'max',
          `a claim waits for the claim statement in flight (batches of up to 100) and for the manager's CPU; claim p50 ${result.latencyMs.claim.p50} ms`,
        ),
      );
    if (cpuProfDir) {
      figures.cpuProfile = summarizeNewestProfile(cpuProfDir, 30);
      // FARM_BENCH_KEEP_PROFILE=<dir>: keep the raw profile (for Chrome's DevTools) there.
      const keep = process.env.FARM_BENCH_KEEP_PROFILE;
      if (keep) fs.cpSync(cpuProfDir, path.join(keep, label), { recursive: true });
      fs.rmSync(cpuProfDir, { recursive: true, force: true });
    }
    return { figures, targets };
  } finally {
    if (load) await load.stop();
    await farm.finish().catch(() => {});
  }
}

module.exports = { runDispatch };
