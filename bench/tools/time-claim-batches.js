#!/usr/bin/env node
'use strict';
// Times the claim statement itself, apart from sockets and the event loop: one job of N tasks,
// B workers, then R rounds in which every worker claims (one statement of B claims) and
// completes its task (a direct UPDATE), as the dispatch bench does at full speed. Prints the
// statement's time per round (p50/p95) and its planning and execution time (EXPLAIN ANALYZE of a
// batch, rolled back):
//   node bench/tools/time-claim-batches.js [tasks=50000] [batch=32] [rounds=200] [jobs=1]
const path = require('node:path');
const { Kysely, PostgresDialect, sql } = require('kysely');
const { Pool } = require('pg');
const pg = require('../lib/postgres');
const { startManager, ROOT } = require('../lib/manager');
const { createHttpClient } = require('../lib/http-client');
const { registerWorker, connectSocketWorker, signOn } = require('../load/sim-worker');
const { summarize } = require('../lib/stats');

async function main() {
  const tasks = Number(process.argv[2] || 50000);
  const batch = Number(process.argv[3] || 32);
  const rounds = Number(process.argv[4] || 200);
  const jobs = Number(process.argv[5] || 1);
  const { claimBatchStatement } = require(
    path.join(ROOT, 'packages/manager/dist/scheduler/claim-task.js'),
  );
  const db = await pg.createDatabase('claimtime');
  try {
    const manager = await startManager({ databaseUrl: db.url });
    const http = createHttpClient(manager.url);
    const perJob = Math.ceil(tasks / jobs);
    for (let job = 0; job < jobs; job++) {
      const r = await http.request('POST', '/api/v1/jobs', {
        token: manager.adminToken,
        body: {
          name: `job ${job}`,
          type: 'shell-frames',
          settings: { command: 'true', frames: `1-${perJob}` },
        },
      });
      if (r.status !== 201) throw new Error(`submission: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const ids = [];
    for (let i = 0; i < batch; i++) {
      const { token, workerId } = await registerWorker(http, manager.registrationSecret, `w${i}`);
      const worker = await connectSocketWorker(manager.url, `w${i}`, token, () => {});
      await signOn(worker);
      worker.close();
      ids.push(workerId);
    }
    http.close();
    await manager.stop();
    const kysely = new Kysely({
      dialect: new PostgresDialect({
        pool: new Pool({ connectionString: db.url, max: 1, options: '-c jit=off' }),
      }),
    });
    await sql`analyze`.execute(kysely);
    const rawClient = new (require('pg').Client)({
      connectionString: db.url,
      options: '-c jit=off',
    });
    await rawClient.connect();
    if (process.env.PREPARED === 'generic')
      await rawClient.query('set plan_cache_mode = force_generic_plan');
    const requests = ids.map((workerId) => ({ workerId, options: { logBytes: 10 } }));
    const times = [];
    let granted = 0;
    for (let round = 0; round < rounds; round++) {
      const started = process.hrtime.bigint();
      const compiledBatch = claimBatchStatement(requests).compile(kysely);
      const { rows } = process.env.PREPARED
        ? await rawClient.query({
            name: 'claim',
            text: compiledBatch.sql,
            values: compiledBatch.parameters,
          })
        : await claimBatchStatement(requests).execute(kysely);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
      const taskIds = rows.filter((row) => row.task_id).map((row) => row.task_id);
      granted += taskIds.length;
      await sql`update tasks set status = 'completed', finished_at = now() where id = any(${taskIds}::uuid[])`.execute(
        kysely,
      );
      await sql`update jobs j set tasks_active = j.tasks_active - d.n,
          tasks_completed = j.tasks_completed + d.n,
          status = case when j.tasks_queued + j.tasks_soft_failed + j.tasks_active = d.n
            then 'completed' else j.status end
        from (select job_id, count(*)::int as n from tasks where id = any(${taskIds}::uuid[])
          group by job_id) d
        where j.id = d.job_id`.execute(kysely);
    }
    const compiled = claimBatchStatement(requests).compile(kysely);
    await sql`begin`.execute(kysely);
    const { rows } = await kysely.executeQuery({
      ...compiled,
      sql: `explain (analyze, buffers) ${compiled.sql}`,
    });
    await sql`rollback`.execute(kysely);
    await kysely.destroy();
    await rawClient.end();
    const plan = rows.map((row) => row['QUERY PLAN']);
    process.stdout.write(
      `${JSON.stringify({ tasks, jobs, batch, rounds, granted, statementMs: summarize(times), claimsPerSecond: Math.round((granted / times.reduce((a, b) => a + b, 0)) * 1000) })}\n`,
    );
    if (process.env.PLAN) process.stdout.write(`${plan.join('\n')}\n`);
    else
      process.stdout.write(
        `${plan.filter((line) => /Planning|Execution/.test(line)).join('\n')}\n`,
      );
  } finally {
    await db.drop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
