'use strict';
// fairness: two projects submit equal-priority jobs (all of project A's first, so plain job age
// would favour A); 20 workers; the share of claims each project gets, second by second.
const { startBackend, submitFramesJob } = require('../lib/backend');
const { startLoadGenerator } = require('../lib/load-generator');
const pg = require('../lib/postgres');
const { target, round2 } = require('../lib/stats');
const { log } = require('../lib/log');

async function runFairness({ workers, jobsPerProject, tasksPerJob, maxDurationMs }) {
  const farm = await startBackend('postgres', { label: 'fairness' });
  let load;
  try {
    // There is no project API yet: the second project is inserted into the database directly.
    await pg.query(
      farm.database.url,
      `insert into projects (name, description) values ('bench-b', 'bench') on conflict do nothing`,
    );
    const projectOf = {};
    for (const project of ['default', 'bench-b']) {
      for (let j = 0; j < jobsPerProject; j++) {
        const { job } = await submitFramesJob(farm.api, {
          name: `${project} ${j}`,
          frames: `1-${tasksPerJob}`,
          project,
        });
        projectOf[job.id] = project;
      }
    }
    const perProject = jobsPerProject * tasksPerJob;
    load = startLoadGenerator('fairness');
    await load.setup({
      url: farm.manager.url,
      secret: farm.manager.registrationSecret,
      workers,
      transport: 'ws',
      namePrefix: 'fair',
    });
    log(`fairness: ${workers} workers on 2 projects x ${perProject} tasks`);
    const result = await load.dispatch({ totalTasks: perProject * 2, maxDurationMs });
    // Only the seconds in which both projects still had tasks left count towards the share.
    const claimed = { default: 0, 'bench-b': 0 };
    const timeline = [];
    let bothWindow = { default: 0, 'bench-b': 0 };
    for (const second of result.claimsByJobPerSecond) {
      const counts = { default: 0, 'bench-b': 0 };
      for (const [jobId, n] of Object.entries(second)) counts[projectOf[jobId]] += n;
      const bothHadWork = claimed.default < perProject && claimed['bench-b'] < perProject;
      claimed.default += counts.default;
      claimed['bench-b'] += counts['bench-b'];
      const total = counts.default + counts['bench-b'];
      timeline.push(total ? round2(counts.default / total) : null);
      if (bothHadWork) {
        bothWindow.default += counts.default;
        bothWindow['bench-b'] += counts['bench-b'];
      }
    }
    const windowTotal = bothWindow.default + bothWindow['bench-b'];
    const shareA = windowTotal ? bothWindow.default / windowTotal : null;
    const deviation = shareA === null ? null : round2(Math.abs(shareA - 0.5) * 100);
    return {
      figures: {
        backend: 'postgres',
        secondProjectCreatedWith: 'SQL insert into projects (no project API yet)',
        workers,
        jobsPerProject,
        tasksPerJob,
        submissionOrder: 'all of project default, then all of project bench-b',
        claims: claimed,
        claimsWhileBothHadWork: bothWindow,
        shareOfDefaultProjectWhileBothHadWork: shareA === null ? null : round2(shareA),
        shareOfDefaultProjectPerSecond: timeline,
        lifecyclesPerSecond: result.lifecyclesPerSecond,
        stoppedByTimeLimit: result.timedOut,
        errors: result.errors,
      },
      targets: [
        {
          ...target('deviation from a 50/50 share, percentage points', deviation, 5, 'max'),
          note: 'within 10 % of 50/50 read as each project between 45 % and 55 % of the claims',
        },
      ],
    };
  } finally {
    if (load) await load.stop();
    await farm.finish();
  }
}

module.exports = { runFairness };
