import { randomUUID } from 'node:crypto';
import { compileJob } from '@farm/core';
import {
  insertTasks,
  insertTasksWithJson,
  insertTasksWithLiterals,
  insertTasksWithUnnest,
  insertTasksWithValues,
} from '../../../src/db/queries/tasks';
import { applyJobAction, prepareTasks, submitJob } from '../../../src/services/jobs';
import { expectCountersMatchRows } from '../../support/counters';
import { describeEachDatabase, resetDatabase } from '../../support/test-database';
import { createTestServiceContext, type TestServiceContext } from './test-service-context';

const TASKS = 100_000;

// Timings are logged, never asserted (DESIGN.md: performance is measured by benchmarks).
describeEachDatabase('submitting a 100,000-task job', (getDb, backend) => {
  let ctx: TestServiceContext;
  beforeAll(async () => {
    await resetDatabase(getDb().db);
    ctx = await createTestServiceContext(getDb());
  });
  afterAll(() => ctx.cleanUp());

  it('stores every task with the right counters', async () => {
    const logged: unknown[] = [];
    const logger = ctx.logger;
    ctx.logger = Object.assign(Object.create(logger) as typeof logger, {
      info: (message: string, meta?: unknown) => {
        logged.push({ message, ...(meta as object) });
        return logger;
      },
    });
    const started = process.hrtime.bigint();
    const job = await submitJob(ctx, ctx.principal, {
      name: 'many frames',
      type: 'shell-frames',
      settings: { command: 'echo {frames}', frames: `1-${TASKS}`, chunk_size: 1 },
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    ctx.logger = logger;
    console.log(
      `[${backend}] submitJob of ${TASKS} tasks: ${ms.toFixed(0)} ms in all, ` +
        `${JSON.stringify(logged)}`,
    );
    expect(job.taskCounts).toMatchObject({ total: TASKS, queued: TASKS });
    const count = await ctx.db
      .selectFrom('tasks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('job_id', '=', job.id)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(TASKS);
    const last = await ctx.db
      .selectFrom('tasks')
      .select(['name', 'commands'])
      .where('job_id', '=', job.id)
      .where('idx', '=', TASKS - 1)
      .executeTakeFirstOrThrow();
    expect(last.name).toBe(`run-${TASKS}`);
    expect(last.commands).toEqual([
      { name: 'exec', parameters: { exe: 'echo', args: [String(TASKS)] } },
    ]);
    await expectCountersMatchRows(ctx.db, job.id);

    // Job-wide actions move every task in one statement, with no per-task parameters.
    const actionsStarted = process.hrtime.bigint();
    const canceled = await applyJobAction(ctx, ctx.principal, job.id, { action: 'cancel' });
    expect(canceled.taskCounts).toMatchObject({ canceled: TASKS, queued: 0 });
    const requeued = await applyJobAction(ctx, ctx.principal, job.id, { action: 'requeue' });
    expect(requeued).toMatchObject({ status: 'queued', taskCounts: { queued: TASKS } });
    const actionsMs = Number(process.hrtime.bigint() - actionsStarted) / 1e6;
    console.log(`[${backend}] cancel + requeue of ${TASKS} tasks: ${actionsMs.toFixed(0)} ms`);
    await expectCountersMatchRows(ctx.db, job.id);
  }, 300_000);

  // Opt-in: it inserts 300,000 more rows per backend. Run with FARM_BENCH_INSERT=1.
  const measure = process.env.FARM_BENCH_INSERT ? it : it.skip;
  if (!process.env.FARM_BENCH_INSERT) {
    console.log('skipping the bulk-insert comparison: set FARM_BENCH_INSERT=1 to run it');
  }
  measure(
    'measures COPY (insertTasks), json_to_recordset, array literals, pg-escaped unnest and VALUES',
    async () => {
      const compiled = compileJob(ctx.jobTypes.get('shell-frames'), {
        name: 'bench',
        type: 'shell-frames',
        settings: { command: 'echo {frames}', frames: `1-${TASKS}`, chunk_size: 1 },
      });
      const { tasks } = prepareTasks(compiled, 'queued');
      const project = await ctx.db.selectFrom('projects').select('id').executeTakeFirstOrThrow();
      const timings: Record<string, number> = {};
      for (const [label, insert] of [
        ['copy', insertTasks],
        ['json_to_recordset', insertTasksWithJson],
        ['array literals', insertTasksWithLiterals],
        ['unnest', insertTasksWithUnnest],
        ['values', insertTasksWithValues],
      ] as const) {
        const jobId = randomUUID();
        await ctx.db
          .insertInto('jobs')
          .values({ id: jobId, name: label, type: 'shell-frames', project_id: project.id })
          .execute();
        const fresh = tasks.map((task) => ({ ...task, id: randomUUID() }));
        const started = process.hrtime.bigint();
        await ctx.db.transaction().execute((trx) => insert(trx, jobId, fresh));
        timings[label] = Number(process.hrtime.bigint() - started) / 1e6;
        await ctx.db.deleteFrom('jobs').where('id', '=', jobId).execute();
      }
      console.log(`[${backend}] inserting ${TASKS} tasks (ms): ${JSON.stringify(timings)}`);
      expect(Object.keys(timings)).toHaveLength(5);
    },
    180_000,
  );
});
