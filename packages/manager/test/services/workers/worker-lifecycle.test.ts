import { isFarmError } from '@farm/core';
import { sql } from 'kysely';
import { rollUpJob, transitionTasks } from '../../../src/services/task-transitions';
import {
  claimWork,
  heartbeat,
  mayIRun,
  requestWorkerStatus,
  signOff,
  signOn,
  stateChanged,
  updateTask,
} from '../../../src/services/workers';
import { expectCountersMatchRows } from '../../support/counters';
import { describeEachDatabase } from '../../support/test-database';
import { jobRow, seedJob, seedWorker, taskRow } from '../../scheduler/seed';
import { createTestWorkerContext, principal, type TestWorkerContext } from './worker-context';

async function claimId(
  ctx: TestWorkerContext,
  workerId: string,
  name = 'worker',
): Promise<string | null> {
  const outcome = await claimWork(ctx, principal(workerId, name));
  return outcome.kind === 'task' ? outcome.task.id : null;
}

async function conflictReason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isFarmError(error) && error.code === 'conflict') {
      return (error.details as { reason: string }).reason;
    }
    throw error;
  }
  throw new Error('expected a conflict');
}

describeEachDatabase(
  'worker lifecycle',
  (getDb) => {
    let ctx: TestWorkerContext;
    beforeEach(() => {
      ctx = createTestWorkerContext(getDb());
    });
    afterEach(() => ctx.cleanUp());
    const db = () => getDb().db;

    it('answers 423-style status changes and not-awake before handing out work', async () => {
      await seedJob(db());
      const lazy = await seedWorker(db(), { statusRequested: 'asleep', lazy: true });
      const asleep = await seedWorker(db(), { status: 'asleep' });
      expect(await claimWork(ctx, principal(lazy.workerId))).toEqual({
        kind: 'status-change',
        change: { statusRequested: 'asleep', lazy: true },
      });
      expect(await claimWork(ctx, principal(asleep.workerId))).toEqual({
        kind: 'not-awake',
        status: 'asleep',
      });
    });

    it('expands variables for the worker`s platform and logs the assignment', async () => {
      const { jobId, taskIds } = await seedJob(db(), {
        tasks: [
          {
            commands: [
              { name: 'exec', parameters: { exe: '{blender}', args: ['{render}/shot/out.png'] } },
            ],
          },
        ],
      });
      const { workerId } = await seedWorker(db(), { platform: 'windows', name: 'win' });
      const outcome = await claimWork(ctx, principal(workerId, 'win'));
      expect(outcome).toMatchObject({
        kind: 'task',
        task: {
          id: taskIds[0],
          jobId,
          commands: [
            { name: 'exec', parameters: { exe: 'blender.exe', args: ['R:\\shot\\out.png'] } },
          ],
        },
      });
      const log = await ctx.logs.read(jobId, taskIds[0]!);
      expect(log.text).toMatch(
        /^\d{4}-\d\d-\d\dT[\d:.]+Z \[manager\] Task assigned to worker win \(/,
      );
      expect((await taskRow(db(), taskIds[0]!)).log_size).toBe(log.size);
      expect(ctx.events.map((e) => e.type)).toEqual(
        expect.arrayContaining(['task-log', 'task-updated', 'job-updated']),
      );
    });

    it('fails a task whose commands name an unknown variable instead of sending it', async () => {
      const { jobId, taskIds } = await seedJob(db(), {
        tasks: [{ commands: [{ name: 'exec', parameters: { exe: '{nosuch}' } }] }, {}],
        failureThresholdPercent: 100,
      });
      const { workerId } = await seedWorker(db());
      const outcome = await claimWork(ctx, principal(workerId));
      // The broken task failed; the worker got the next one.
      expect(outcome).toMatchObject({ kind: 'task', task: { id: taskIds[1] } });
      const broken = await taskRow(db(), taskIds[0]!);
      expect(broken.status).toBe('failed');
      expect(broken.activity).toMatch(/unknown variable \{nosuch\}/);
      await expectCountersMatchRows(db(), jobId);
    });

    it('a long poll is woken by new work', async () => {
      const { workerId } = await seedWorker(db());
      const started = Date.now();
      const waiting = claimWork(ctx, principal(workerId), { waitMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 150));
      const { taskIds } = await seedJob(db());
      ctx.wakeWorkers();
      const outcome = await waiting;
      expect(outcome).toMatchObject({ kind: 'task', task: { id: taskIds[0] } });
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('a long poll without work answers none after waitMs', async () => {
      const { workerId } = await seedWorker(db());
      const started = Date.now();
      expect(await claimWork(ctx, principal(workerId), { waitMs: 200 })).toEqual({ kind: 'none' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    });

    it('sign-off requeues the worker`s task at once, without counting a failure', async () => {
      const { jobId, taskIds } = await seedJob(db());
      const a = await seedWorker(db(), { name: 'a' });
      const b = await seedWorker(db(), { name: 'b' });
      expect(await claimId(ctx, a.workerId, 'a')).toBe(taskIds[0]);
      await signOff(ctx, principal(a.workerId, 'a'), undefined);
      const task = await taskRow(db(), taskIds[0]!);
      expect(task).toMatchObject({ status: 'queued', worker_id: null, failure_count: 0 });
      expect(
        (
          await db()
            .selectFrom('workers')
            .select('status')
            .where('id', '=', a.workerId)
            .executeTakeFirstOrThrow()
        ).status,
      ).toBe('offline');
      expect((await ctx.logs.read(jobId, taskIds[0]!)).text).toMatch(
        /\[manager\] Worker a signed off; the task is now queued/,
      );
      expect(await claimId(ctx, b.workerId, 'b')).toBe(taskIds[0]);
      await expectCountersMatchRows(db(), jobId);
    });

    it('sign-on: a pending request wins, else awake; a worker in error recovers by itself', async () => {
      const pending = await seedWorker(db(), {
        statusRequested: 'asleep',
        lazy: false,
        status: 'offline',
      });
      const errored = await seedWorker(db(), { status: 'error' });
      const body = {
        name: 'w',
        platform: 'linux' as const,
        taskTypes: ['Blender ', 'misc'],
        version: '1.0',
      };
      expect(await signOn(ctx, principal(pending.workerId), body)).toEqual({
        statusRequested: 'asleep',
        lazy: false,
      });
      expect(await signOn(ctx, principal(errored.workerId), body)).toEqual({
        statusRequested: 'awake',
        lazy: false,
      });
      const row = await db()
        .selectFrom('workers')
        .selectAll()
        .where('id', '=', errored.workerId)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        status: 'starting',
        task_types: ['blender', 'misc'],
        version: '1.0',
      });
      await stateChanged(ctx, principal(errored.workerId), { status: 'awake' });
      await seedJob(db());
      expect(await claimId(ctx, errored.workerId)).not.toBeNull();
    });

    it('a timed-out (error) worker that asks for work is told to wake, and then gets work', async () => {
      const { taskIds } = await seedJob(db());
      const { workerId } = await seedWorker(db(), { status: 'error' });
      const me = principal(workerId);
      expect(await claimWork(ctx, me)).toEqual({
        kind: 'status-change',
        change: { statusRequested: 'awake', lazy: false },
      });
      expect(await heartbeat(ctx, me, undefined)).toEqual({
        statusRequested: 'awake',
        lazy: false,
      });
      await stateChanged(ctx, me, { status: 'awake' });
      expect(await claimId(ctx, workerId)).toBe(taskIds[0]);
    });

    it('soft-fails on each new worker and hard-fails on the third distinct one', async () => {
      const { jobId, taskIds } = await seedJob(db(), {
        failureThresholdPercent: 100,
        tasks: [{}, {}],
      });
      const workers = await Promise.all(
        ['a', 'b', 'c', 'd'].map((name) => seedWorker(db(), { name })),
      );
      const statuses: string[] = [];
      for (const [i, w] of workers.slice(0, 3).entries()) {
        const name = ['a', 'b', 'c'][i]!;
        // Each worker gets the failing task (task 0 is first in order, never twice for one worker).
        expect(await claimId(ctx, w.workerId, name)).toBe(taskIds[0]);
        await updateTask(ctx, principal(w.workerId, name), taskIds[0]!, {
          status: 'failed',
          failureReason: 'boom',
          log: 'it broke',
        });
        statuses.push((await taskRow(db(), taskIds[0]!)).status);
        // Free the worker again: it took nothing else.
      }
      expect(statuses).toEqual(['soft-failed', 'soft-failed', 'failed']);
      const failures = await db()
        .selectFrom('task_failures')
        .select('worker_id')
        .where('task_id', '=', taskIds[0]!)
        .execute();
      expect(failures).toHaveLength(3);
      const log = (await ctx.logs.read(jobId, taskIds[0]!)).text;
      expect(log).toMatch(/it broke\n/);
      expect(log).toMatch(/Task failed on worker c: boom; it is now failed/);
      // The fourth worker gets the other task, not the failed one.
      expect(await claimId(ctx, workers[3]!.workerId, 'd')).toBe(taskIds[1]);
      await expectCountersMatchRows(db(), jobId);
    });

    it('blocklists a worker at exactly the threshold and requeues the tasks it failed', async () => {
      const { jobId, taskIds } = await seedJob(db(), {
        maxTaskFailures: 1,
        blocklistThreshold: 2,
        failureThresholdPercent: 100,
        tasks: [{}, {}, {}],
      });
      const bad = await seedWorker(db(), { name: 'bad' });
      const good = await seedWorker(db(), { name: 'good' });
      const badP = principal(bad.workerId, 'bad');
      expect(await claimId(ctx, bad.workerId, 'bad')).toBe(taskIds[0]);
      await updateTask(ctx, badP, taskIds[0]!, { status: 'failed' });
      // One failure is below the threshold of 2: no blocklist yet (Flamenco blocked here).
      expect(await db().selectFrom('job_blocklist').selectAll().execute()).toHaveLength(0);
      expect((await taskRow(db(), taskIds[0]!)).status).toBe('failed');
      expect(await claimId(ctx, bad.workerId, 'bad')).toBe(taskIds[1]);
      await updateTask(ctx, badP, taskIds[1]!, { status: 'failed' });
      const blocks = await db().selectFrom('job_blocklist').selectAll().execute();
      expect(blocks).toMatchObject([{ job_id: jobId, worker_id: bad.workerId, task_type: 'misc' }]);
      expect((await taskRow(db(), taskIds[0]!)).status).toBe('queued');
      expect((await taskRow(db(), taskIds[1]!)).status).toBe('queued');
      expect(await claimId(ctx, bad.workerId, 'bad')).toBeNull();
      expect(await claimId(ctx, good.workerId, 'good')).toBe(taskIds[0]);
      await expectCountersMatchRows(db(), jobId);
    });

    it('fails the job when no capable worker is left, and says why', async () => {
      const { jobId, taskIds } = await seedJob(db(), {
        tasks: [{ type: 'ffmpeg' }, { type: 'misc' }],
      });
      const only = await seedWorker(db(), { taskTypes: ['ffmpeg'] });
      await seedWorker(db(), { taskTypes: ['ffmpeg'], status: 'offline' });
      expect(await claimId(ctx, only.workerId)).toBe(taskIds[0]);
      await updateTask(ctx, principal(only.workerId), taskIds[0]!, { status: 'failed' });
      const job = await jobRow(db(), jobId);
      expect(job.status).toBe('failed');
      expect(job.activity).toMatch(/no more workers left to run tasks of type ffmpeg/);
      expect((await taskRow(db(), taskIds[0]!)).status).toBe('failed');
      expect((await taskRow(db(), taskIds[1]!)).status).toBe('canceled');
      await expectCountersMatchRows(db(), jobId);
    });

    it('refuses a late update for a task a person canceled, and changes nothing', async () => {
      const { jobId, taskIds } = await seedJob(db(), { tasks: [{}, {}] });
      const { workerId } = await seedWorker(db());
      expect(await claimId(ctx, workerId)).toBe(taskIds[0]);
      await db()
        .transaction()
        .execute(async (trx) => {
          await transitionTasks(trx, {
            jobId,
            taskIds: [taskIds[0]!],
            from: ['active'],
            to: 'canceled',
            activity: 'Canceled by ann',
          });
          await rollUpJob(trx, jobId);
        });
      const before = await taskRow(db(), taskIds[0]!);
      const jobBefore = await jobRow(db(), jobId);
      expect(await mayIRun(ctx, principal(workerId), taskIds[0]!)).toMatchObject({
        mayKeepRunning: false,
      });
      for (const update of [
        { status: 'completed' as const },
        { status: 'failed' as const },
        { progress: 0.5, log: 'late' },
      ]) {
        expect(
          await conflictReason(updateTask(ctx, principal(workerId), taskIds[0]!, update)),
        ).toBe('task-not-active');
      }
      expect(await taskRow(db(), taskIds[0]!)).toEqual(before);
      const jobAfter = await jobRow(db(), jobId);
      expect({ ...jobAfter, updated_at: null }).toEqual({ ...jobBefore, updated_at: null });
      expect(await db().selectFrom('task_failures').selectAll().execute()).toHaveLength(0);
      expect((await ctx.logs.read(jobId, taskIds[0]!)).text).not.toMatch(/late/);
    });

    it('refuses a worker touching another worker`s task (409 not-your-task), nothing changes', async () => {
      const { jobId, taskIds } = await seedJob(db());
      const owner = await seedWorker(db(), { name: 'owner' });
      const other = await seedWorker(db(), { name: 'other' });
      expect(await claimId(ctx, owner.workerId, 'owner')).toBe(taskIds[0]);
      const before = await taskRow(db(), taskIds[0]!);
      for (const update of [
        { status: 'completed' as const },
        { status: 'failed' as const },
        { activity: 'mine now' },
      ]) {
        expect(
          await conflictReason(
            updateTask(ctx, principal(other.workerId, 'other'), taskIds[0]!, update),
          ),
        ).toBe('not-your-task');
      }
      expect(await taskRow(db(), taskIds[0]!)).toEqual(before);
      expect(await mayIRun(ctx, principal(other.workerId), taskIds[0]!)).toMatchObject({
        mayKeepRunning: false,
      });
      await expectCountersMatchRows(db(), jobId);
    });

    it('completes a task with progress and log, rolling the job up', async () => {
      const { jobId, taskIds } = await seedJob(db());
      const { workerId } = await seedWorker(db());
      const me = principal(workerId);
      await claimId(ctx, workerId);
      await updateTask(ctx, me, taskIds[0]!, {
        activity: 'rendering',
        progress: 0.5,
        log: 'frame 1',
      });
      expect(await taskRow(db(), taskIds[0]!)).toMatchObject({
        activity: 'rendering',
        progress: 0.5,
      });
      await updateTask(ctx, me, taskIds[0]!, { status: 'completed', log: 'done\n' });
      expect(await taskRow(db(), taskIds[0]!)).toMatchObject({ status: 'completed', progress: 1 });
      expect((await jobRow(db(), jobId)).status).toBe('completed');
      const log = await ctx.logs.read(jobId, taskIds[0]!);
      expect(log.text).toMatch(/frame 1\n[^]*done\n[^]*Task completed by worker worker\n$/);
      expect((await taskRow(db(), taskIds[0]!)).log_size).toBe(log.size);
    });

    it('mayIRun: a lazy request lets the task finish, an immediate one stops it and requeues it', async () => {
      const { taskIds } = await seedJob(db());
      const { workerId } = await seedWorker(db(), { name: 'w' });
      await claimId(ctx, workerId, 'w');
      await requestWorkerStatus(ctx, workerId, { status: 'asleep', lazy: true });
      expect(await mayIRun(ctx, principal(workerId, 'w'), taskIds[0]!)).toEqual({
        mayKeepRunning: true,
        statusChangeRequested: true,
      });
      expect(await claimWork(ctx, principal(workerId, 'w'))).toMatchObject({
        kind: 'status-change',
      });
      await requestWorkerStatus(ctx, workerId, { status: 'offline', lazy: false });
      expect(ctx.pushes.map((p) => p.message.type)).toEqual([
        'status-request',
        'status-request',
        'stop-task',
      ]);
      expect(await taskRow(db(), taskIds[0]!)).toMatchObject({ status: 'queued', worker_id: null });
      expect(await mayIRun(ctx, principal(workerId, 'w'), taskIds[0]!)).toMatchObject({
        mayKeepRunning: false,
      });
    });

    it('keeps counters equal to rows through a burst of mixed operations', async () => {
      const { jobId } = await seedJob(db(), {
        failureThresholdPercent: 100,
        tasks: Array.from({ length: 12 }, () => ({})),
      });
      const workers = await Promise.all(
        [1, 2, 3, 4].map((i) => seedWorker(db(), { name: `w${i}` })),
      );
      for (let round = 0; round < 4; round++) {
        await Promise.all(
          workers.map(async (w, i) => {
            const me = principal(w.workerId, `w${i}`);
            const outcome = await claimWork(ctx, me);
            if (outcome.kind !== 'task') return;
            await updateTask(ctx, me, outcome.task.id, {
              status: (i + round) % 3 === 0 ? 'failed' : 'completed',
            });
          }),
        );
      }
      await expectCountersMatchRows(db(), jobId);
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from tasks where status = 'active'`.execute(db());
      expect(rows[0]!.n).toBe(0);
    });
  },
  { resetBetweenTests: true },
);
