'use strict';
// many-small-jobs: thousands of 10-task jobs; how fast they are accepted, then how fast 200
// socket workers run them.
const { startBackend, submitFramesJob } = require('../lib/backend');
const { startLoadGenerator } = require('../lib/load-generator');
const { startCpuWindow, memoryMb } = require('../lib/proc');
const { summarize, target, limitOf } = require('../lib/stats');
const { log } = require('../lib/log');

async function runManySmallJobs({
  backend,
  jobs,
  tasksPerJob,
  workers,
  submitLimitMs,
  dispatchLimitMs,
  concurrency = 8,
}) {
  const farm = await startBackend(backend, { label: `small_jobs_${backend}` });
  let load;
  try {
    log(
      `many-small-jobs: submitting up to ${jobs} jobs of ${tasksPerJob} tasks (${concurrency} at a time)`,
    );
    const latencies = [];
    let submitted = 0;
    let failed = 0;
    let next = 0;
    const started = performance.now();
    const deadline = started + submitLimitMs;
    const lane = async () => {
      while (next < jobs && performance.now() < deadline) {
        const i = next++;
        try {
          const r = await submitFramesJob(farm.api, {
            name: `small ${i}`,
            frames: `1-${tasksPerJob}`,
          });
          latencies.push(r.ms);
          submitted++;
        } catch {
          failed++;
        }
        if (submitted % 1000 === 0 && submitted)
          log(`many-small-jobs: ${submitted} jobs submitted`);
      }
    };
    const submitCpu = startCpuWindow(farm.manager.pid);
    await Promise.all(Array.from({ length: concurrency }, lane));
    const submitSeconds = (performance.now() - started) / 1000;
    const submitCpuUse = submitCpu();
    const jobsPerSecond = Math.round(submitted / submitSeconds);

    load = startLoadGenerator('many-small-jobs');
    const ready = await load.setup({
      url: farm.manager.url,
      secret: farm.manager.registrationSecret,
      workers,
      transport: 'ws',
      namePrefix: 'small',
    });
    const cpu = startCpuWindow(farm.manager.pid, { loadGenerator: load.pid });
    log(
      `many-small-jobs: dispatching ${submitted * tasksPerJob} tasks with ${ready.workers} workers`,
    );
    const result = await load.dispatch({
      totalTasks: submitted * tasksPerJob,
      maxDurationMs: dispatchLimitMs,
    });
    const cpuUse = cpu();
    const rate = result.steadyLifecyclesPerSecond ?? result.lifecyclesPerSecond;
    return {
      figures: {
        backend,
        jobsRequested: jobs,
        jobsSubmitted: submitted,
        submitFailures: failed,
        stoppedSubmittingByTimeLimit: submitted + failed < jobs,
        submitSeconds: Math.round(submitSeconds * 10) / 10,
        jobsPerSecond,
        submitLatencyMs: summarize(latencies),
        submitCpu: submitCpuUse,
        workers: ready.workers,
        lifecyclesCompleted: result.completed,
        stoppedDispatchByTimeLimit: result.timedOut,
        dispatchSeconds: result.seconds,
        lifecyclesPerSecond: result.lifecyclesPerSecond,
        steadyLifecyclesPerSecond: result.steadyLifecyclesPerSecond,
        latencyMs: result.latencyMs,
        errors: result.errors,
        dispatchCpu: cpuUse,
        managerPeakRssMb: memoryMb(farm.manager.pid).peakRssMb,
      },
      targets: [
        target(
          'lifecycles per second (steady)',
          rate,
          5000,
          'min',
          `${limitOf(cpuUse)}; claim p50 ${result.latencyMs.claim.p50} ms over ${submitted} runnable jobs, each completing after 10 tasks`,
        ),
      ],
    };
  } finally {
    if (load) await load.stop();
    await farm.finish();
  }
}

module.exports = { runManySmallJobs };
