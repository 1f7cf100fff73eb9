import { sql } from 'kysely';
import { resolveConfig } from '../../src/config';
import { checkTaskTimeouts, checkWorkerTimeouts } from '../../src/duties';
import { claimWork, heartbeat, stateChanged } from '../../src/services/workers';
import { expectCountersMatchRows } from '../support/counters';
import { describeEachDatabase } from '../support/test-database';
import { seedJob, seedWorker, taskRow } from '../scheduler/seed';
import { principal } from '../services/workers/worker-context';
import { createDutyContext, type DutyTestContext } from './duty-context';

describeEachDatabase(
  'timeout duties',
  (getDb) => {
    let ctx: DutyTestContext;
    beforeEach(() => {
      ctx = createDutyContext(getDb(), ['--blocklist-threshold', '2']);
    });
    afterEach(() => ctx.cleanUp());
    const db = () => getDb().db;

    async function claim(workerId: string, name: string): Promise<string | null> {
      const outcome = await claimWork(ctx, principal(workerId, name));
      return outcome.kind === 'task' ? outcome.task.id : null;
    }

    it('a timed-out task soft-fails as a failure of its worker and goes to another worker', async () => {
      const { jobId, taskIds } = await seedJob(db(), { tasks: [{}, {}], blocklistThreshold: 2 });
      const a = await seedWorker(db(), { name: 'alpha' });
      const b = await seedWorker(db(), { name: 'bravo' });
      expect(await claim(a.workerId, 'alpha')).toBe(taskIds[0]);
      expect(await claim(b.workerId, 'bravo')).toBe(taskIds[1]);
      // alpha went silent 11 minutes ago; bravo's task is fresh.
      await sql`update tasks set last_touched_at = now() - interval '11 minutes'
        where id = ${taskIds[0]}`.execute(db());
      const seenBefore = (
        await db()
          .selectFrom('workers')
          .select('last_seen_at')
          .where('id', '=', a.workerId)
          .executeTakeFirstOrThrow()
      ).last_seen_at;

      expect(await checkTaskTimeouts(ctx)).toEqual([taskIds[0]]);

      const task = await taskRow(db(), taskIds[0]!);
      expect(task.status).toBe('soft-failed');
      expect(task.activity).toBe('no update from worker alpha for 10m');
      expect(task.worker_id).toBe(a.workerId);
      const failures = await db().selectFrom('task_failures').selectAll().execute();
      expect(failures).toEqual([
        expect.objectContaining({ task_id: taskIds[0], worker_id: a.workerId }),
      ]);
      const log = await ctx.logs.read(jobId, taskIds[0]!);
      expect(log.text).toMatch(
        /\[manager\] Task failed on worker alpha: no update from worker alpha for 10m; it is now soft-failed/,
      );
      expect(ctx.stopped).toEqual([
        { taskIds: [taskIds[0]], reason: 'no update from worker alpha for 10m' },
      ]);
      expect((await taskRow(db(), taskIds[1]!)).status).toBe('active');
      // The timeout is not a sign of life of the silent worker.
      const seenAfter = (
        await db()
          .selectFrom('workers')
          .select('last_seen_at')
          .where('id', '=', a.workerId)
          .executeTakeFirstOrThrow()
      ).last_seen_at;
      expect(seenAfter).toEqual(seenBefore);
      await expectCountersMatchRows(db(), jobId);

      // alpha may not take it again; bravo (once free) does.
      expect(await claim(a.workerId, 'alpha')).toBeNull();
      await sql`update tasks set status = 'completed' where id = ${taskIds[1]}`.execute(db());
      await sql`update jobs set tasks_active = tasks_active - 1, tasks_completed = tasks_completed + 1
        where id = ${jobId}`.execute(db());
      expect(await claim(b.workerId, 'bravo')).toBe(taskIds[0]);

      // A second run finds nothing to do.
      expect(await checkTaskTimeouts(ctx)).toEqual([]);
    });

    it('counts timeouts toward the blocklist, whose entry expires after the forgive time', async () => {
      const { taskIds, jobId } = await seedJob(db(), {
        tasks: [{}, {}, {}],
        blocklistThreshold: 2,
        failureThresholdPercent: 100,
      });
      const a = await seedWorker(db(), { name: 'alpha' });
      await seedWorker(db(), { name: 'spare' });
      for (const _ of [0, 1]) {
        const id = await claim(a.workerId, 'alpha');
        expect(id).not.toBeNull();
        await sql`update tasks set last_touched_at = now() - interval '1 hour' where id = ${id}`.execute(
          db(),
        );
        expect(await checkTaskTimeouts(ctx)).toEqual([id]);
      }
      const entries = await db().selectFrom('job_blocklist').selectAll().execute();
      expect(entries).toEqual([
        expect.objectContaining({ job_id: jobId, worker_id: a.workerId, task_type: 'misc' }),
      ]);
      const forgiveMs = entries[0]!.expires_at!.getTime() - entries[0]!.created_at.getTime();
      expect(forgiveMs).toBeGreaterThan(3_590_000);
      expect(forgiveMs).toBeLessThan(3_610_000);
      expect(await claim(a.workerId, 'alpha')).toBeNull();
      // Forgiven: the entry has expired, alpha may run the job's third task.
      await sql`update job_blocklist set expires_at = now() - interval '1 second'`.execute(db());
      expect(await claim(a.workerId, 'alpha')).toBe(taskIds[2]);
    });

    it('does not time out a task its worker touched after the check read it', async () => {
      const { taskIds } = await seedJob(db());
      const a = await seedWorker(db(), { name: 'alpha' });
      await claim(a.workerId, 'alpha');
      await sql`update tasks set last_touched_at = now() - interval '11 minutes'`.execute(db());
      // The check reads with a clock 11 minutes later, so the just-touched task looks stale only
      // if the guard ignores the touch.
      await sql`update tasks set last_touched_at = now()`.execute(db());
      expect(await checkTaskTimeouts(ctx)).toEqual([]);
      expect(await checkTaskTimeouts(ctx, new Date(Date.now() + 11 * 60_000))).toEqual([
        taskIds[0],
      ]);
    });

    it('a worker timeout marks it error and requeues its tasks at once; it recovers by itself', async () => {
      const { jobId, taskIds } = await seedJob(db());
      const a = await seedWorker(db(), { name: 'alpha' });
      expect(await claim(a.workerId, 'alpha')).toBe(taskIds[0]);
      await sql`update workers set last_seen_at = now() - interval '2 minutes',
        status_requested = 'asleep', status_requested_lazy = true`.execute(db());
      const fresh = await seedWorker(db(), { name: 'fresh' });
      await sql`update workers set last_seen_at = now() where id = ${fresh.workerId}`.execute(db());
      const gone = await seedWorker(db(), { name: 'gone', status: 'offline' });
      await sql`update workers set last_seen_at = now() - interval '1 day' where id = ${gone.workerId}`.execute(
        db(),
      );

      expect(await checkWorkerTimeouts(ctx)).toEqual([a.workerId]);

      const worker = await db()
        .selectFrom('workers')
        .selectAll()
        .where('id', '=', a.workerId)
        .executeTakeFirstOrThrow();
      expect(worker).toMatchObject({ status: 'error', status_requested: null });
      const task = await taskRow(db(), taskIds[0]!);
      expect(task).toMatchObject({ status: 'queued', worker_id: null });
      expect(task.activity).toBe('Worker alpha timed out: not seen for 1m');
      expect(await db().selectFrom('task_failures').selectAll().execute()).toEqual([]);
      expect(ctx.events).toContainEqual(
        expect.objectContaining({
          type: 'worker-updated',
          previousStatus: 'awake',
          worker: expect.objectContaining({ id: a.workerId, status: 'error' }),
        }),
      );
      await expectCountersMatchRows(db(), jobId);
      expect(await checkWorkerTimeouts(ctx)).toEqual([]);

      // It comes back: told to wake up, it acknowledges, and gets work again, without a person.
      expect(await heartbeat(ctx, principal(a.workerId, 'alpha'), undefined)).toEqual({
        statusRequested: 'awake',
        lazy: false,
      });
      expect(await claimWork(ctx, principal(a.workerId, 'alpha'))).toEqual({
        kind: 'status-change',
        change: { statusRequested: 'awake', lazy: false },
      });
      await stateChanged(ctx, principal(a.workerId, 'alpha'), { status: 'awake' });
      expect(await claim(a.workerId, 'alpha')).toBe(taskIds[0]);
    });

    it('a timeout of 0 turns the checks off', async () => {
      ctx.config = resolveConfig({
        env: {},
        argv: ['--data-dir', ctx.dir, '--task-timeout', '0', '--worker-timeout', '0'],
      });
      await seedWorker(db());
      await sql`update workers set last_seen_at = now() - interval '1 day'`.execute(db());
      expect(await checkWorkerTimeouts(ctx)).toEqual([]);
      expect(await checkTaskTimeouts(ctx)).toEqual([]);
    });
  },
  { resetBetweenTests: true },
);
