import { isFarmError } from '@farm/core';
import { claimWork, updateTask } from '../../../src/services/workers';
import { expectCountersMatchRows } from '../../support/counters';
import { describeEachDatabase } from '../../support/test-database';
import { jobRow, seedJob, seedWorker, taskRow } from '../../scheduler/seed';
import { createTestWorkerContext, principal, type TestWorkerContext } from './worker-context';

/** The error code and reason a report ended with, or 'ok'. */
async function outcomeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (isFarmError(error)) {
      const reason = (error.details as { reason?: string } | undefined)?.reason;
      return reason ? `${error.code}:${reason}` : error.code;
    }
    throw error;
  }
}

describeEachDatabase(
  'group commit of worker reports',
  (getDb) => {
    let ctx: TestWorkerContext;
    beforeEach(() => {
      ctx = createTestWorkerContext(getDb());
    });
    afterEach(() => ctx.cleanUp());
    const db = () => getDb().db;

    async function claimAll(count: number): Promise<{ workerId: string; taskId: string }[]> {
      const claimed: { workerId: string; taskId: string }[] = [];
      for (let i = 0; i < count; i++) {
        const { workerId } = await seedWorker(db(), { name: `w${i}` });
        const outcome = await claimWork(ctx, principal(workerId, `w${i}`));
        if (outcome.kind !== 'task') throw new Error(`worker ${i} got no task`);
        claimed.push({ workerId, taskId: outcome.task.id });
      }
      return claimed;
    }

    it('completions arriving together are one roll-up: every task, counter and log right', async () => {
      const { jobId } = await seedJob(db(), { tasks: Array.from({ length: 12 }, () => ({})) });
      const claimed = await claimAll(12);
      ctx.events.length = 0;
      const results = await Promise.all(
        claimed.map(({ workerId, taskId }, i) =>
          outcomeOf(
            updateTask(ctx, principal(workerId, `w${i}`), taskId, {
              status: 'completed',
              log: `frame ${i} done`,
            }),
          ),
        ),
      );
      expect(results).toEqual(claimed.map(() => 'ok'));
      expect(await jobRow(db(), jobId)).toMatchObject({ status: 'completed', tasks_completed: 12 });
      await expectCountersMatchRows(db(), jobId);
      for (const [i, { taskId }] of claimed.entries()) {
        const row = await taskRow(db(), taskId);
        expect(row).toMatchObject({ status: 'completed', progress: 1, activity: 'Completed' });
        const log = await ctx.logs.read(jobId, taskId);
        expect(log.text).toMatch(
          new RegExp(`frame ${i} done\\n[^]*Task completed by worker w${i}\\n$`),
        );
        expect(row.log_size).toBe(log.size);
      }
      // Every task is announced, the job once: its counters moved once for the whole batch.
      const types = ctx.events.map((event) => event.type);
      expect(types.filter((type) => type === 'task-updated')).toHaveLength(12);
      expect(types.filter((type) => type === 'job-updated')).toHaveLength(1);
      expect(ctx.wakeCalls).toBeGreaterThan(0);
    });

    it('a refused completion in a batch gets its own 404/409; the others are applied', async () => {
      const { jobId } = await seedJob(db(), { tasks: Array.from({ length: 4 }, () => ({})) });
      const [a, b, c, d] = await claimAll(4);
      const results = await Promise.all([
        outcomeOf(
          updateTask(ctx, principal(a!.workerId, 'w0'), a!.taskId, { status: 'completed' }),
        ),
        // b reports on c's task: not its own.
        outcomeOf(
          updateTask(ctx, principal(b!.workerId, 'w1'), c!.taskId, { status: 'completed' }),
        ),
        outcomeOf(
          updateTask(ctx, principal(d!.workerId, 'w3'), '00000000-0000-4000-8000-000000000000', {
            status: 'completed',
          }),
        ),
        outcomeOf(
          updateTask(ctx, principal(d!.workerId, 'w3'), d!.taskId, { status: 'completed' }),
        ),
      ]);
      expect(results).toEqual(['ok', 'conflict:not-your-task', 'not_found', 'ok']);
      expect((await taskRow(db(), c!.taskId)).status).toBe('active');
      expect((await taskRow(db(), b!.taskId)).status).toBe('active');
      expect((await taskRow(db(), a!.taskId)).status).toBe('completed');
      expect(await jobRow(db(), jobId)).toMatchObject({ status: 'active', tasks_completed: 2 });
      // A second completion of a completed task is refused, as alone.
      expect(
        await outcomeOf(
          updateTask(ctx, principal(a!.workerId, 'w0'), a!.taskId, { status: 'completed' }),
        ),
      ).toBe('conflict:task-not-active');
      await expectCountersMatchRows(db(), jobId);
    });

    it('progress reports arriving together are each applied, guarded and logged', async () => {
      const { jobId } = await seedJob(db(), { tasks: Array.from({ length: 6 }, () => ({})) });
      const claimed = await claimAll(6);
      const stranger = await seedWorker(db(), { name: 'stranger' });
      const results = await Promise.all([
        ...claimed.map(({ workerId, taskId }, i) =>
          outcomeOf(
            updateTask(ctx, principal(workerId, `w${i}`), taskId, {
              activity: `rendering ${i}`,
              progress: i / 10,
              log: `line ${i}`,
            }),
          ),
        ),
        outcomeOf(
          updateTask(ctx, principal(stranger.workerId, 'stranger'), claimed[0]!.taskId, {
            progress: 0.9,
          }),
        ),
      ]);
      expect(results).toEqual([...claimed.map(() => 'ok'), 'conflict:not-your-task']);
      for (const [i, { taskId }] of claimed.entries()) {
        const row = await taskRow(db(), taskId);
        expect(row).toMatchObject({ status: 'active', activity: `rendering ${i}` });
        expect(row.progress).toBeCloseTo(i / 10);
        const log = await ctx.logs.read(jobId, taskId);
        expect(log.text).toContain(`line ${i}\n`);
        expect(row.log_size).toBe(log.size);
      }
    });

    it('a completion unblocks its dependent in the same batch as the others', async () => {
      const { jobId, taskIds } = await seedJob(db(), {
        tasks: [{}, {}, { unmetDependencies: 1 }],
      });
      await db()
        .insertInto('task_dependencies')
        .values({ task_id: taskIds[2]!, depends_on_id: taskIds[0]! })
        .execute();
      const claimed = await claimAll(2);
      await Promise.all(
        claimed.map(({ workerId, taskId }, i) =>
          updateTask(ctx, principal(workerId, `w${i}`), taskId, { status: 'completed' }),
        ),
      );
      expect((await taskRow(db(), taskIds[2]!)).unmet_dependencies).toBe(0);
      const next = await claimWork(ctx, principal(claimed[0]!.workerId, 'w0'));
      expect(next).toMatchObject({ kind: 'task', task: { id: taskIds[2] } });
      await expectCountersMatchRows(db(), jobId);
    });
  },
  { resetBetweenTests: true },
);
