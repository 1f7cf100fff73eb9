import { isFarmError } from '@farm/core';
import { claimWork, updateTask } from '../../../src/services/workers';
import { createProgressBuffer } from '../../../src/services/workers/progress-buffer';
import { describeEachDatabase } from '../../support/test-database';
import { seedJob, seedWorker, taskRow } from '../../scheduler/seed';
import { createTestWorkerContext, principal, type TestWorkerContext } from './worker-context';

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
  'progress reports held in memory',
  (getDb) => {
    let ctx: TestWorkerContext;
    const db = () => getDb().db;
    beforeEach(() => {
      ctx = createTestWorkerContext(getDb());
      // A long interval: the tests decide when the buffer writes.
      const progress = createProgressBuffer(db(), { flushIntervalMs: 60_000 });
      ctx.progress = progress;
      const publish = ctx.publish;
      // As the event bus does: every live event also reaches the buffer.
      ctx.publish = (event) => {
        publish(event);
        progress.onEvent(event);
      };
    });
    afterEach(async () => {
      await ctx.progress?.close();
      await ctx.cleanUp();
    });

    async function claimOne(name = 'w') {
      const { workerId } = await seedWorker(db(), { name });
      const outcome = await claimWork(ctx, principal(workerId, name));
      if (outcome.kind !== 'task') throw new Error('no task');
      return { workerId, taskId: outcome.task.id, jobId: outcome.task.jobId };
    }

    it('a report of a task handed out here is answered at once, shown live, written with the next flush', async () => {
      await seedJob(db(), { tasks: [{}] });
      const { workerId, taskId, jobId } = await claimOne();
      ctx.events.length = 0;
      await updateTask(ctx, principal(workerId, 'w'), taskId, {
        status: 'active',
        activity: 'rendering',
        progress: 0.5,
        log: 'Fra:1 Mem:12M',
      });
      // Live watchers and the log see it at once; the row waits for the flush.
      expect(ctx.events).toContainEqual(
        expect.objectContaining({
          type: 'task-updated',
          task: expect.objectContaining({ id: taskId, activity: 'rendering', progress: 0.5 }),
        }),
      );
      expect((await ctx.logs.read(jobId, taskId)).text).toContain('Fra:1 Mem:12M\n');
      expect((await taskRow(db(), taskId)).activity).toBe('');
      expect(ctx.progress!.held).toBe(1);

      await ctx.progress!.flush();
      const row = await taskRow(db(), taskId);
      expect(row).toMatchObject({ status: 'active', activity: 'rendering' });
      expect(row.progress).toBeCloseTo(0.5);
      expect(row.log_size).toBe((await ctx.logs.read(jobId, taskId)).size);
    });

    it('a completion takes the held steps and log bytes along', async () => {
      await seedJob(db(), { tasks: [{}] });
      const { workerId, taskId, jobId } = await claimOne();
      await updateTask(ctx, principal(workerId, 'w'), taskId, { stepsDone: 7, log: 'half way' });
      await updateTask(ctx, principal(workerId, 'w'), taskId, { status: 'completed' });
      expect(ctx.progress!.held).toBe(0);
      const row = await taskRow(db(), taskId);
      expect(row).toMatchObject({ status: 'completed', steps_done: 7, progress: 1 });
      const log = await ctx.logs.read(jobId, taskId);
      expect(log.text).toContain('half way\n');
      expect(row.log_size).toBe(log.size);
    });

    it('another worker reporting on the task still gets 409, and nothing is held for it', async () => {
      await seedJob(db(), { tasks: [{}] });
      const { taskId } = await claimOne('owner');
      const stranger = await seedWorker(db(), { name: 'stranger' });
      expect(
        await outcomeOf(
          updateTask(ctx, principal(stranger.workerId, 'stranger'), taskId, { progress: 0.9 }),
        ),
      ).toBe('conflict:not-your-task');
      expect(ctx.progress!.held).toBe(0);
    });

    it('a task that stopped being the worker’s meanwhile: its next report after the flush gets 409', async () => {
      await seedJob(db(), { tasks: [{}] });
      const { workerId, taskId } = await claimOne();
      // Canceled behind this replica's back (another replica; no event reached this one).
      await db()
        .updateTable('tasks')
        .set({ status: 'canceled' })
        .where('id', '=', taskId)
        .execute();
      expect(
        await outcomeOf(updateTask(ctx, principal(workerId, 'w'), taskId, { progress: 0.2 })),
      ).toBe('ok');
      await ctx.progress!.flush();
      expect((await taskRow(db(), taskId)).progress).toBe(0);
      expect(
        await outcomeOf(updateTask(ctx, principal(workerId, 'w'), taskId, { progress: 0.3 })),
      ).toBe('conflict:task-not-active');
    });

    it('an event saying the task left active makes the very next report read the database', async () => {
      await seedJob(db(), { tasks: [{}] });
      const { workerId, taskId, jobId } = await claimOne();
      await db()
        .updateTable('tasks')
        .set({ status: 'canceled' })
        .where('id', '=', taskId)
        .execute();
      ctx.publish({
        type: 'task-updated',
        jobId,
        task: {
          id: taskId,
          jobId,
          index: 0,
          name: 'x',
          type: 'misc',
          status: 'canceled',
          priority: 50,
          worker: null,
          progress: 0,
          activity: 'Canceled',
          updated: new Date().toISOString(),
        },
      });
      expect(
        await outcomeOf(updateTask(ctx, principal(workerId, 'w'), taskId, { progress: 0.3 })),
      ).toBe('conflict:task-not-active');
    });

    it('closing writes what is held', async () => {
      await seedJob(db(), { tasks: [{}] });
      const { workerId, taskId } = await claimOne();
      await updateTask(ctx, principal(workerId, 'w'), taskId, { activity: 'almost' });
      await ctx.progress!.close();
      expect((await taskRow(db(), taskId)).activity).toBe('almost');
    });
  },
  { resetBetweenTests: true },
);
