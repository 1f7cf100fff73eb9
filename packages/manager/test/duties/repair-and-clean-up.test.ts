import fs from 'node:fs';
import { sql } from 'kysely';
import { cleanUp, repairState } from '../../src/duties';
import { claimWork } from '../../src/services/workers';
import { expectCountersMatchRows } from '../support/counters';
import { describeEachDatabase } from '../support/test-database';
import { seedJob, seedWorker, taskRow } from '../scheduler/seed';
import { principal } from '../services/workers/worker-context';
import { createDutyContext, type DutyTestContext } from './duty-context';

describeEachDatabase(
  'repair and clean-up duties',
  (getDb) => {
    let ctx: DutyTestContext;
    let warnings: { message: string; meta: Record<string, unknown> }[];
    beforeEach(() => {
      ctx = createDutyContext(getDb(), ['--job-archive-age', '1d']);
      warnings = [];
      ctx.logger.warn = ((message: string, meta: Record<string, unknown>) => {
        warnings.push({ message, meta });
        return ctx.logger;
      }) as never;
    });
    afterEach(() => ctx.cleanUp());
    const db = () => getDb().db;
    const jobStatus = async (id: string) =>
      (
        await db()
          .selectFrom('jobs')
          .select('status')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).status;

    it('finishes jobs stuck in *-requested or requeueing and hands back tasks of offline workers', async () => {
      const cancel = await seedJob(db(), {
        status: 'cancel-requested',
        tasks: [{ status: 'canceled' }, { status: 'completed' }],
      });
      const requeue = await seedJob(db(), { status: 'requeueing', tasks: [{ status: 'queued' }] });
      const running = await seedJob(db(), { status: 'pause-requested', tasks: [{}] });
      const { workerId } = await seedWorker(db(), { name: 'alpha' });
      await sql`update jobs set status = 'active' where id = ${running.jobId}`.execute(db());
      expect(await claimWork(ctx, principal(workerId, 'alpha'))).toMatchObject({ kind: 'task' });
      await sql`update jobs set status = 'pause-requested' where id = ${running.jobId}`.execute(
        db(),
      );
      // The worker died and was marked offline while its task stayed active.
      await sql`update workers set status = 'offline' where id = ${workerId}`.execute(db());

      const report = await repairState(ctx);
      expect(report.tasksHandedBack).toEqual([running.taskIds[0]]);
      expect(await jobStatus(cancel.jobId)).toBe('canceled');
      expect(await jobStatus(requeue.jobId)).toBe('queued');
      // Its last task handed back (paused, since the job was being paused), the job is paused.
      expect(await taskRow(db(), running.taskIds[0]!)).toMatchObject({ status: 'paused' });
      expect(await jobStatus(running.jobId)).toBe('paused');
      expect(report.jobsRolledUp.sort()).toEqual([cancel.jobId, requeue.jobId].sort());
      for (const job of [cancel, requeue, running]) await expectCountersMatchRows(db(), job.jobId);
      expect(await repairState(ctx)).toEqual({
        jobsRolledUp: [],
        tasksHandedBack: [],
        countersFixed: [],
      });
    });

    it('corrects counters that disagree with the task rows and logs the differences', async () => {
      const { jobId } = await seedJob(db(), { tasks: [{}, {}, { status: 'completed' }] });
      const fine = await seedJob(db(), { tasks: [{}] });
      await sql`update jobs set tasks_queued = 5, tasks_completed = 0 where id = ${jobId}`.execute(
        db(),
      );
      const report = await repairState(ctx);
      expect(report.countersFixed).toEqual([
        {
          jobId,
          differences: {
            queued: { counter: 5, rows: 2 },
            completed: { counter: 0, rows: 1 },
          },
        },
      ]);
      expect(warnings).toContainEqual({
        message: 'repaired job counters that disagreed with its tasks',
        meta: { jobId, differences: report.countersFixed[0]!.differences },
      });
      await expectCountersMatchRows(db(), jobId);
      await expectCountersMatchRows(db(), fine.jobId);
    });

    it('removes long-offline workers and archives long-finished jobs with a summary', async () => {
      const old = await seedWorker(db(), { name: 'old', status: 'offline' });
      const recent = await seedWorker(db(), { name: 'recent', status: 'offline' });
      const errored = await seedWorker(db(), { name: 'errored', status: 'error' });
      await sql`update workers set last_seen_at = now() - interval '31 days'
        where id in (${old.workerId}, ${errored.workerId})`.execute(db());
      await sql`update workers set last_seen_at = now() - interval '29 days'
        where id = ${recent.workerId}`.execute(db());
      const done = await seedJob(db(), {
        status: 'completed',
        tasks: [{ status: 'completed' }, { status: 'completed' }],
      });
      const fresh = await seedJob(db(), { status: 'failed', tasks: [{ status: 'failed' }] });
      await ctx.logs.append(done.jobId, done.taskIds[0]!, 'rendered\n');
      await sql`update jobs set updated_at = now() - interval '2 days' where id = ${done.jobId}`.execute(
        db(),
      );

      const report = await cleanUp(ctx);
      expect(report.workersRemoved).toEqual([old.workerId]);
      expect(report.jobsArchived).toEqual([done.jobId]);
      const workers = await db().selectFrom('workers').select('name').orderBy('name').execute();
      expect(workers.map((w) => w.name)).toEqual(['errored', 'recent']);
      const job = await db()
        .selectFrom('jobs')
        .selectAll()
        .where('id', '=', done.jobId)
        .executeTakeFirstOrThrow();
      expect(job.status).toBe('archived');
      expect(job.archived_summary).toMatchObject({
        previousStatus: 'completed',
        taskCounts: expect.objectContaining({ completed: 2 }),
        tasksRemoved: true,
      });
      expect(
        await db().selectFrom('tasks').select('id').where('job_id', '=', done.jobId).execute(),
      ).toEqual([]);
      expect(fs.existsSync(`${ctx.dir}/${done.jobId}`)).toBe(false);
      expect(
        (await ctx.logs.read(done.jobId, done.taskIds[0]!).catch(() => ({ text: '' }))).text,
      ).toBe('');
      expect(await jobStatus(fresh.jobId)).toBe('failed');
      // Archived jobs keep their counters: repair leaves them alone.
      expect((await repairState(ctx)).countersFixed).toEqual([]);
    });
  },
  { resetBetweenTests: true },
);
