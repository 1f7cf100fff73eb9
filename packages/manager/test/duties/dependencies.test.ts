import { rollUpJob, transitionTasks } from '../../src/services/task-transitions';
import { claimWork, updateTask } from '../../src/services/workers';
import { expectCountersMatchRows } from '../support/counters';
import { describeEachDatabase } from '../support/test-database';
import { seedJob, seedWorker, taskRow } from '../scheduler/seed';
import { principal } from '../services/workers/worker-context';
import { createDutyContext, type DutyTestContext } from './duty-context';

describeEachDatabase(
  'failed dependencies',
  (getDb) => {
    let ctx: DutyTestContext;
    beforeEach(() => {
      ctx = createDutyContext(getDb());
    });
    afterEach(() => ctx.cleanUp());
    const db = () => getDb().db;

    it('cancels the dependents of a failed task, and requeueing it requeues them', async () => {
      // render -> encode -> upload, and an independent task that keeps the job running.
      const { jobId, taskIds } = await seedJob(db(), {
        tasks: [
          { name: 'render' },
          { name: 'encode', unmetDependencies: 1 },
          { name: 'upload', unmetDependencies: 1 },
          { name: 'other' },
        ],
        maxTaskFailures: 1,
        failureThresholdPercent: 100,
      });
      const [render, encode, upload] = taskIds as [string, string, string, string];
      await db()
        .insertInto('task_dependencies')
        .values([
          { task_id: encode, depends_on_id: render },
          { task_id: upload, depends_on_id: encode },
        ])
        .execute();
      const { workerId } = await seedWorker(db(), { name: 'alpha' });
      const claimed = await claimWork(ctx, principal(workerId, 'alpha'));
      expect(claimed).toMatchObject({ kind: 'task', task: { id: render } });
      await updateTask(ctx, principal(workerId, 'alpha'), render, {
        status: 'failed',
        failureReason: 'segfault',
      });

      expect((await taskRow(db(), render)).status).toBe('failed');
      expect(await taskRow(db(), encode)).toMatchObject({
        status: 'canceled',
        activity: 'Canceled: dependency render failed',
      });
      expect(await taskRow(db(), upload)).toMatchObject({
        status: 'canceled',
        activity: 'Canceled: dependency encode was canceled',
      });
      const job = await db()
        .selectFrom('jobs')
        .selectAll()
        .where('id', '=', jobId)
        .executeTakeFirstOrThrow();
      expect(job.status).toBe('active');
      expect(ctx.events).toContainEqual(
        expect.objectContaining({
          type: 'task-updated',
          task: expect.objectContaining({ id: encode, status: 'canceled' }),
        }),
      );
      await expectCountersMatchRows(db(), jobId);

      await db()
        .transaction()
        .execute(async (trx) => {
          await transitionTasks(trx, {
            jobId,
            taskIds: [render],
            from: ['failed'],
            to: 'queued',
            clearFailures: true,
          });
          await rollUpJob(trx, jobId);
        });
      expect((await taskRow(db(), encode)).status).toBe('queued');
      expect((await taskRow(db(), upload)).status).toBe('queued');
      expect((await taskRow(db(), encode)).unmet_dependencies).toBe(1);
      await expectCountersMatchRows(db(), jobId);
    });

    it('reports a failure cascading to many dependents as one bulk event, not one each', async () => {
      const dependents = Array.from({ length: 25 }, (_, i) => ({
        name: `frame-${i}`,
        unmetDependencies: 1,
      }));
      const { jobId, taskIds } = await seedJob(db(), {
        tasks: [{ name: 'setup' }, ...dependents, { name: 'other' }],
        maxTaskFailures: 1,
        failureThresholdPercent: 100,
      });
      const setup = taskIds[0]!;
      const frames = taskIds.slice(1, 26);
      await db()
        .insertInto('task_dependencies')
        .values(frames.map((id) => ({ task_id: id, depends_on_id: setup })))
        .execute();
      const { workerId } = await seedWorker(db(), { name: 'alpha' });
      expect(await claimWork(ctx, principal(workerId, 'alpha'))).toMatchObject({
        task: { id: setup },
      });
      ctx.events.length = 0;
      await updateTask(ctx, principal(workerId, 'alpha'), setup, {
        status: 'failed',
        failureReason: 'no license',
      });

      const taskEvents = ctx.events.filter((event) => event.type === 'task-updated');
      expect(taskEvents).toEqual([
        expect.objectContaining({ task: expect.objectContaining({ id: setup, status: 'failed' }) }),
      ]);
      const bulk = ctx.events.filter((event) => event.type === 'tasks-bulk-updated');
      expect(bulk).toHaveLength(1);
      expect(new Set((bulk[0] as { taskIds?: string[] }).taskIds)).toEqual(new Set(frames));
      await expectCountersMatchRows(db(), jobId);
    });
  },
  { resetBetweenTests: true },
);
