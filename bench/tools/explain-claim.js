#!/usr/bin/env node
'use strict';
// EXPLAIN (ANALYZE, BUFFERS) of the manager's claim statement on a database holding N runnable
// jobs of M tasks (default 700 jobs of 10), to see how a claim's cost grows with the number of
// jobs and of tasks (the second shows that the indexes carry it on a million-task table):
//   node bench/tools/explain-claim.js 700
//   node bench/tools/explain-claim.js 10 100000
const path = require('node:path');
const { Kysely, PostgresDialect } = require('kysely');
const { Pool } = require('pg');
const pg = require('../lib/postgres');
const { startManager, ROOT } = require('../lib/manager');
const { createHttpClient } = require('../lib/http-client');
const { registerWorker, connectSocketWorker, signOn } = require('../load/sim-worker');

async function main() {
  const jobs = Number(process.argv[2] || 700);
  const tasksPerJob = Number(process.argv[3] || 10);
  const { claimStatement } = require(
    path.join(ROOT, 'packages/manager/dist/scheduler/claim-task.js'),
  );
  const db = await pg.createDatabase('explain');
  try {
    const manager = await startManager({ databaseUrl: db.url });
    const http = createHttpClient(manager.url);
    let next = 0;
    const lane = async () => {
      while (next < jobs) {
        next++;
        const r = await http.request('POST', '/api/v1/jobs', {
          token: manager.adminToken,
          body: {
            name: `j${next}`,
            type: 'shell-frames',
            settings: { command: 'true', frames: `1-${tasksPerJob}` },
          },
        });
        if (r.status !== 201)
          throw new Error(`submission ${next}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    };
    // Big jobs one at a time: each compiles its tasks in the manager's memory.
    await Promise.all(Array.from({ length: tasksPerJob > 1000 ? 1 : 8 }, lane));
    const { token, workerId } = await registerWorker(http, manager.registrationSecret, 'explainer');
    const worker = await connectSocketWorker(manager.url, 'explainer', token, () => {});
    await signOn(worker);
    worker.close();
    http.close();
    await manager.stop();
    const kysely = new Kysely({
      dialect: new PostgresDialect({ pool: new Pool({ connectionString: db.url, max: 1 }) }),
    });
    // Fresh statistics, as autovacuum would have them on a farm that has run for a while.
    await kysely.executeQuery({ sql: 'analyze', parameters: [], query: { kind: 'RawNode' } });
    const count = await kysely.executeQuery({
      sql: 'select count(*)::int as n from tasks',
      parameters: [],
      query: { kind: 'RawNode' },
    });
    const compiled = claimStatement(workerId).compile(kysely);
    const { rows } = await kysely.executeQuery({
      ...compiled,
      sql: `explain (analyze, buffers) ${compiled.sql}`,
    });
    await kysely.destroy();
    process.stdout.write(
      `runnable jobs: ${jobs}, tasks in the table: ${count.rows[0].n}\n` +
        `${rows.map((r) => r['QUERY PLAN']).join('\n')}\n`,
    );
  } finally {
    await db.drop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
