'use strict';
// submission: one job of many one-frame tasks submitted over HTTP; time from request to 201.
const { startBackend, submitFramesJob } = require('../lib/backend');
const { memoryMb } = require('../lib/proc');
const { target } = require('../lib/stats');
const { log } = require('../lib/log');

async function runSubmission({ backend, tasks }) {
  const farm = await startBackend(backend, { label: `submission_${backend}` });
  try {
    // A small job first, so the big one does not pay for the job type's first compilation.
    const warmup = await submitFramesJob(farm.api, { name: 'warm-up', frames: '1-10' });
    log(`submission-${backend}: submitting one job of ${tasks} tasks`);
    const big = await submitFramesJob(farm.api, {
      name: `submission ${tasks}`,
      frames: `1-${tasks}`,
    });
    const memory = memoryMb(farm.manager.pid);
    const stored = big.job.taskCounts?.total ?? null;
    return {
      figures: {
        backend,
        tasks,
        tasksStored: stored,
        warmupJobMs: warmup.ms,
        submitMs: big.ms,
        tasksPerSecond: Math.round((tasks / big.ms) * 1000),
        managerPeakRssMb: memory.peakRssMb,
      },
      targets: [
        target(
          'submit to 201 ms',
          big.ms,
          2000 * (tasks / 100000),
          'max',
          backend === 'pglite'
            ? "PGlite stores the rows in WebAssembly on the manager's own thread, after compiling (docs/performance.md, Submission)"
            : 'compiling the job script and storing the rows with COPY (docs/performance.md, Submission)',
        ),
      ],
    };
  } finally {
    await farm.finish();
  }
}

module.exports = { runSubmission };
