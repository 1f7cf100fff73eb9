#!/usr/bin/env node
'use strict';
// Farm's benchmarks (`npm run bench`): runs each scenario against a real manager process on a
// fresh Postgres database and/or embedded PGlite, prints ONE JSON document on stdout and writes
// it to bench/results/<date>-<host>.json. Progress goes to stderr.
//
//   node bench/run.js [--only dispatch,fleet] [--scale 0.2] [--no-profile] [--out file.json]
//
// Scenarios: dispatch, dispatch-http, submission, fleet, cancel, many-small-jobs, fairness
// (and dispatch-http-pglite, only when named).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { machineInfo } = require('./lib/proc');
const { log } = require('./lib/log');
const pg = require('./lib/postgres');
const { runDispatch } = require('./scenarios/dispatch');
const { runSubmission } = require('./scenarios/submission');
const { runFleet } = require('./scenarios/fleet');
const { runCancel } = require('./scenarios/cancel');
const { runManySmallJobs } = require('./scenarios/many-small-jobs');
const { runFairness } = require('./scenarios/fairness');
const { runReplicas } = require('./scenarios/replicas');

function parseArgs(argv) {
  const options = { only: null, scale: 1, profile: true, out: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg.startsWith('--only'))
      options.only = value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (arg.startsWith('--scale')) options.scale = Number(value());
    else if (arg === '--profile') options.profile = true;
    // The main dispatch run is profiled by default (V8's sampler costs the manager a few %).
    else if (arg === '--no-profile') options.profile = false;
    else if (arg.startsWith('--out')) options.out = value();
    else if (arg === '--help' || arg === '-h') {
      process.stderr.write(
        'Usage: node bench/run.js [--only name,name] [--scale 0.1] [--no-profile] [--out file]\n' +
          `Scenarios: ${Object.keys(scenarios(1, false)).join(', ')}\n`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (!(options.scale > 0)) throw new Error('--scale must be a positive number');
  return options;
}

// Sizes are scaled by --scale; time limits shrink with it too (but never below a quarter), so a
// quick run stays quick while a full run fits in 10 minutes on a 2-core machine.
function scenarios(scale, profile) {
  const n = (value, min = 1) => Math.max(min, Math.round(value * scale));
  const ms = (value) => Math.round(value * Math.min(1, Math.max(0.25, scale)));
  return {
    dispatch: [
      {
        name: 'dispatch-postgres-ws',
        what: '200 socket workers, one job of 50,000 one-command tasks, Postgres',
        run: () =>
          runDispatch({
            backend: 'postgres',
            transport: 'ws',
            workers: n(200, 10),
            tasks: n(50000, 100),
            maxDurationMs: ms(30000),
            targetRate: 5000,
            profile,
          }),
      },
      {
        name: 'dispatch-postgres-ws-50jobs',
        what: 'the same tasks spread over 50 jobs (shows the cost of one hot job row)',
        run: () =>
          runDispatch({
            backend: 'postgres',
            transport: 'ws',
            workers: n(200, 10),
            tasks: n(50000, 100),
            jobs: 50,
            maxDurationMs: ms(20000),
            targetRate: 5000,
          }),
      },
      {
        name: 'dispatch-postgres-ws-1worker',
        what: 'one socket worker alone: the uncontended cost of a lifecycle (sum of its requests)',
        run: () =>
          runDispatch({
            backend: 'postgres',
            transport: 'ws',
            workers: 1,
            tasks: n(2000, 100),
            maxDurationMs: ms(10000),
            targetRate: null,
          }),
      },
      {
        name: 'dispatch-pglite-ws',
        what: '200 socket workers, 10,000 tasks, embedded PGlite',
        run: () =>
          runDispatch({
            backend: 'pglite',
            transport: 'ws',
            workers: n(200, 10),
            tasks: n(10000, 100),
            maxDurationMs: ms(15000),
            targetRate: 500,
          }),
      },
    ],
    'dispatch-http': [
      {
        name: 'dispatch-postgres-http',
        what: '200 HTTP workers (as DESIGN.md asks), 20,000 tasks, Postgres',
        run: () =>
          runDispatch({
            backend: 'postgres',
            transport: 'http',
            workers: n(200, 10),
            tasks: n(20000, 100),
            maxDurationMs: ms(20000),
            targetRate: 5000,
          }),
      },
    ],
    // Not in the default run (it would push the run past 10 minutes); name it with --only.
    'dispatch-http-pglite': [
      {
        name: 'dispatch-pglite-http',
        what: '50 HTTP workers, 5,000 tasks, embedded PGlite',
        run: () =>
          runDispatch({
            backend: 'pglite',
            transport: 'http',
            workers: n(50, 5),
            tasks: n(5000, 100),
            maxDurationMs: ms(20000),
            targetRate: 500,
          }),
      },
    ],
    submission: [
      {
        name: 'submission-postgres',
        what: 'one job of 100,000 tasks over HTTP, Postgres',
        run: () => runSubmission({ backend: 'postgres', tasks: n(100000, 100) }),
      },
      {
        name: 'submission-pglite',
        what: 'one job of 100,000 tasks over HTTP, PGlite',
        run: () => runSubmission({ backend: 'pglite', tasks: n(100000, 100) }),
      },
    ],
    fleet: [
      {
        name: 'fleet-postgres',
        what: '5,000 idle workers on open websockets; manager CPU over 30 s and RSS',
        run: () =>
          runFleet({
            backend: 'postgres',
            workers: n(5000, 50),
            measureMs: ms(30000),
            setupLimitMs: ms(150000),
          }),
      },
    ],
    cancel: [
      {
        name: 'cancel-postgres',
        what: '4 real farm-worker processes running `sleep 30`; 20 cancels',
        run: () => runCancel({ backend: 'postgres', workers: 4, cancels: n(20, 4) }),
      },
    ],
    'many-small-jobs': [
      {
        name: 'many-small-jobs-postgres',
        what: '10,000 jobs of 10 tasks: submission rate, then dispatch with 200 socket workers',
        run: () =>
          runManySmallJobs({
            backend: 'postgres',
            jobs: n(10000, 20),
            tasksPerJob: 10,
            workers: n(200, 10),
            submitLimitMs: ms(15000),
            dispatchLimitMs: ms(15000),
          }),
      },
    ],
    fairness: [
      {
        name: 'fairness-postgres',
        what: 'two projects, equal priority, 20 workers; share of claims over time',
        run: () =>
          runFairness({
            workers: 20,
            jobsPerProject: 4,
            tasksPerJob: n(250, 25),
            maxDurationMs: ms(20000),
          }),
      },
    ],
    replicas: [
      {
        name: 'replicas-postgres',
        what: '1, 2 and 3 manager replicas on one Postgres behind a round-robin proxy, 50 socket workers',
        run: () =>
          runReplicas({
            workers: n(50, 10),
            tasks: n(20000, 100),
            maxDurationMs: ms(8000),
          }),
      },
    ],
  };
}

const OPTIONAL = new Set(['dispatch-http-pglite']);

function hostTag() {
  return (
    os
      .hostname()
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 24) || 'host'
  );
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const all = scenarios(options.scale, options.profile);
  // --only takes groups (dispatch) or single runs of a group (dispatch-postgres-ws).
  const runs = Object.entries(all).flatMap(([group, list]) => list.map((run) => [group, run]));
  const selected = [];
  for (const name of options.only ?? Object.keys(all).filter((group) => !OPTIONAL.has(group))) {
    const matching = all[name]
      ? all[name].map((run) => [name, run])
      : runs.filter(([, run]) => run.name === name);
    if (matching.length === 0)
      throw new Error(
        `unknown scenario ${name}; known: ${[...Object.keys(all), ...runs.map(([, run]) => run.name)].join(', ')}`,
      );
    selected.push(...matching);
  }
  const startedAt = new Date();
  const machine = machineInfo();
  const report = {
    benchmark: 'farm',
    startedAt: startedAt.toISOString(),
    finishedAt: null,
    durationSeconds: null,
    options: { scale: options.scale, only: options.only, profile: options.profile },
    machine: {
      ...machine,
      loadAverageBefore: machine.loadAverage,
      loadAverageAfter: null,
      openFilesLimit: null,
      postgres: pg.BASE_URL,
      noise:
        'Shared, noisy machine: the same run varies up to 1.8x; compare runs by their load averages.',
    },
    scenarios: {},
    summary: [],
  };
  delete report.machine.loadAverage;
  try {
    report.machine.openFilesLimit = Number(
      require('node:child_process').execSync('ulimit -Hn', { shell: '/bin/sh' }).toString().trim(),
    );
  } catch {
    // Not essential.
  }
  const postgresUp = await pg.available();
  for (const [group, scenario] of selected) {
    {
      const started = Date.now();
      const entry = {
        group,
        what: scenario.what,
        loadAverageBefore: os.loadavg().map((v) => Math.round(v * 100) / 100),
      };
      log(`=== ${scenario.name}: ${scenario.what}`);
      try {
        if (!postgresUp && scenario.name.includes('postgres'))
          throw new Error(`Postgres is not reachable at ${pg.BASE_URL}`);
        const result = await scenario.run();
        Object.assign(entry, { status: 'ok', ...result });
        for (const t of result.targets) {
          log(
            `${scenario.name}: ${t.name} = ${t.value} (target ${t.direction === 'min' ? '>=' : '<='} ${t.target}) ${t.met ? 'MET' : 'NOT MET'}`,
          );
          report.summary.push({ scenario: scenario.name, ...t });
        }
      } catch (error) {
        log(`${scenario.name} failed: ${error.stack || error}`);
        Object.assign(entry, { status: 'error', error: String(error.message || error) });
        report.summary.push({
          scenario: scenario.name,
          name: 'scenario ran',
          met: false,
          error: entry.error,
        });
      }
      entry.loadAverageAfter = os.loadavg().map((v) => Math.round(v * 100) / 100);
      entry.seconds = Math.round((Date.now() - started) / 100) / 10;
      report.scenarios[scenario.name] = entry;
    }
  }
  const finishedAt = new Date();
  report.finishedAt = finishedAt.toISOString();
  report.durationSeconds = Math.round((finishedAt - startedAt) / 1000);
  report.machine.loadAverageAfter = os.loadavg().map((v) => Math.round(v * 100) / 100);
  const json = JSON.stringify(report, null, 2);
  const scaleTag = options.scale === 1 ? '' : `-scale${options.scale}`;
  const onlyTag = options.only ? `-${options.only.join('+')}` : '';
  const out =
    options.out ??
    path.join(
      __dirname,
      'results',
      `${startedAt.toISOString().slice(0, 10)}-${hostTag()}${scaleTag}${onlyTag}.json`,
    );
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${json}\n`);
  log(`wrote ${path.relative(process.cwd(), out)} in ${report.durationSeconds} s`);
  process.stdout.write(`${json}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
