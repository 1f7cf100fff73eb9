import { sql } from 'kysely';
import { claimStatement, claimTask } from '../../src/scheduler/claim-task';
import { describeEachDatabase } from '../support/test-database';
import {
  createProject,
  countedByStatus,
  jobCounters,
  jobRow,
  seedJob,
  seedWorker,
  taskRow,
} from './seed';

const HOUR_MS = 3600_000;
const ago = (hours: number) => new Date(Date.now() - hours * HOUR_MS);

describeEachDatabase(
  'claimTask',
  (getDb) => {
    const db = () => getDb().db;

    async function claimedName(workerId: string): Promise<string | null> {
      const result = await claimTask(db(), workerId);
      return result.task ? `${result.task.jobName}/${result.task.name}` : null;
    }

    it('assigns the task: active, worker, timestamps; counters move and a queued job becomes active', async () => {
      const { jobId, taskIds } = await seedJob(db(), { tasks: [{}, {}] });
      const { workerId } = await seedWorker(db());
      const result = await claimTask(db(), workerId);
      expect(result.reclaimed).toBe(false);
      expect(result.task).toMatchObject({
        id: taskIds[0],
        jobId,
        index: 0,
        previousStatus: 'queued',
        previousJobStatus: 'queued',
        jobStatus: 'active',
        commands: [{ name: 'echo', parameters: { message: 'hi' } }],
      });
      const task = await taskRow(db(), taskIds[0]!);
      expect(task).toMatchObject({ status: 'active', worker_id: workerId });
      expect(task.started_at).toBeInstanceOf(Date);
      expect(task.last_touched_at).toBeInstanceOf(Date);
      expect((await jobRow(db(), jobId)).status).toBe('active');
      expect(await jobCounters(db(), jobId)).toEqual({ queued: 1, active: 1 });
      expect(await jobCounters(db(), jobId)).toEqual(await countedByStatus(db(), jobId));
    });

    it('gives a restarted worker its own active task back, and no second task', async () => {
      const { taskIds } = await seedJob(db(), { tasks: [{}, {}] });
      const { workerId } = await seedWorker(db());
      const first = await claimTask(db(), workerId);
      const again = await claimTask(db(), workerId);
      expect(again.task?.id).toBe(first.task?.id);
      expect(again.reclaimed).toBe(true);
      expect((await taskRow(db(), taskIds[1]!)).status).toBe('queued');
    });

    it('answers no task, with the worker`s state, when it may not claim', async () => {
      await seedJob(db());
      const asleep = await seedWorker(db(), { status: 'asleep' });
      const pending = await seedWorker(db(), { statusRequested: 'asleep', lazy: true });
      const r1 = await claimTask(db(), asleep.workerId);
      expect(r1.task).toBeNull();
      expect(r1.worker?.status).toBe('asleep');
      const r2 = await claimTask(db(), pending.workerId);
      expect(r2.task).toBeNull();
      expect(r2.worker).toMatchObject({ statusRequested: 'asleep', statusRequestedLazy: true });
      expect(await claimTask(db(), '00000000-0000-4000-8000-000000000000')).toEqual({
        worker: null,
        task: null,
        reclaimed: false,
      });
    });

    describe('order', () => {
      it('takes the higher job priority first', async () => {
        await seedJob(db(), { name: 'low', priority: 10, createdAt: ago(2) });
        await seedJob(db(), { name: 'high', priority: 90, createdAt: ago(1) });
        const { workerId } = await seedWorker(db());
        expect(await claimedName(workerId)).toBe('high/task 0');
      });

      it('prefers, among equal priorities, the project with fewer running tasks', async () => {
        const busy = await createProject(db(), 'busy');
        const idle = await createProject(db(), 'idle');
        // The busy project's older job already runs 2 tasks; the idle project's job is younger.
        await seedJob(db(), {
          name: 'busy-running',
          projectId: busy,
          status: 'active',
          createdAt: ago(5),
          tasks: [{ status: 'active' }, { status: 'active' }],
        });
        await seedJob(db(), {
          name: 'busy-old',
          projectId: busy,
          createdAt: ago(4),
          tasks: [{}, {}, {}],
        });
        await seedJob(db(), {
          name: 'idle-young',
          projectId: idle,
          createdAt: ago(1),
          tasks: [{}, {}, {}],
        });
        const workers = await Promise.all(
          [1, 2, 3, 4].map((i) => seedWorker(db(), { name: `w${i}` })),
        );
        const names: (string | null)[] = [];
        for (const w of workers) names.push(await claimedName(w.workerId));
        // idle gets 2 (0 → 1 → 2 running vs busy's 2), then ties go to the older job.
        expect(names).toEqual([
          'idle-young/task 0',
          'idle-young/task 1',
          'busy-old/task 0',
          'idle-young/task 2',
        ]);
      });

      it('takes the older job first among equal priority and load', async () => {
        await seedJob(db(), { name: 'young', createdAt: ago(1) });
        await seedJob(db(), { name: 'old', createdAt: ago(3) });
        const { workerId } = await seedWorker(db());
        expect(await claimedName(workerId)).toBe('old/task 0');
      });

      it('takes the higher task priority, then the lower index, within a job', async () => {
        await seedJob(db(), {
          name: 'j',
          tasks: [{ priority: 10 }, { priority: 70 }, { priority: 70 }, { priority: 90 }],
        });
        const names: (string | null)[] = [];
        for (let i = 0; i < 4; i++)
          names.push(await claimedName((await seedWorker(db())).workerId));
        expect(names).toEqual(['j/task 3', 'j/task 1', 'j/task 2', 'j/task 0']);
      });
    });

    describe('eligibility', () => {
      it('only queued and soft-failed tasks of queued or active jobs', async () => {
        await seedJob(db(), {
          name: 'done',
          status: 'active',
          tasks: [
            { status: 'completed' },
            { status: 'failed' },
            { status: 'canceled' },
            { status: 'paused' },
          ],
        });
        for (const status of ['paused', 'pause-requested', 'cancel-requested', 'failed'] as const) {
          await seedJob(db(), { name: status, status });
        }
        const { workerId } = await seedWorker(db());
        expect(await claimedName(workerId)).toBeNull();
        await seedJob(db(), { name: 'soft', status: 'active', tasks: [{ status: 'soft-failed' }] });
        const result = await claimTask(db(), workerId);
        expect(result.task).toMatchObject({ jobName: 'soft', previousStatus: 'soft-failed' });
      });

      it('only tasks whose dependencies are all completed', async () => {
        await seedJob(db(), {
          name: 'j',
          tasks: [{ unmetDependencies: 1 }, { unmetDependencies: 0 }],
        });
        const { workerId } = await seedWorker(db());
        expect(await claimedName(workerId)).toBe('j/task 1');
        expect(await claimedName((await seedWorker(db())).workerId)).toBeNull();
      });

      it('only jobs past their not_before', async () => {
        await seedJob(db(), { name: 'later', notBefore: new Date(Date.now() + HOUR_MS) });
        const { workerId } = await seedWorker(db());
        expect(await claimedName(workerId)).toBeNull();
        await seedJob(db(), { name: 'now', notBefore: ago(1) });
        expect(await claimedName(workerId)).toBe('now/task 0');
      });

      it('only task types the worker runs', async () => {
        await seedJob(db(), { name: 'j', tasks: [{ type: 'ffmpeg' }, { type: 'blender' }] });
        const blender = await seedWorker(db(), { taskTypes: ['blender'] });
        const misc = await seedWorker(db(), { taskTypes: ['misc'] });
        expect(await claimedName(misc.workerId)).toBeNull();
        expect(await claimedName(blender.workerId)).toBe('j/task 1');
      });

      it('only jobs whose required tags the worker has', async () => {
        await seedJob(db(), { name: 'gpu', requiredTags: ['gpu', 'linux'] });
        const partial = await seedWorker(db(), { tags: ['gpu'] });
        const full = await seedWorker(db(), { tags: ['linux', 'gpu', 'big'] });
        expect(await claimedName(partial.workerId)).toBeNull();
        expect(await claimedName(full.workerId)).toBe('gpu/task 0');
      });

      it('not for a worker blocklisted for (job, task type) until the entry expires', async () => {
        const { jobId } = await seedJob(db(), {
          name: 'j',
          tasks: [{ type: 'blender' }, { type: 'misc' }],
        });
        const { workerId } = await seedWorker(db());
        await db()
          .insertInto('job_blocklist')
          .values({
            job_id: jobId,
            worker_id: workerId,
            task_type: 'blender',
            expires_at: new Date(Date.now() + HOUR_MS),
          })
          .execute();
        expect(await claimedName(workerId)).toBe('j/task 1');
        await db()
          .updateTable('tasks')
          .set({ status: 'queued', worker_id: null })
          .where('job_id', '=', jobId)
          .execute();
        await db()
          .updateTable('jobs')
          .set({ tasks_active: 0, tasks_queued: 2 })
          .where('id', '=', jobId)
          .execute();
        await db()
          .updateTable('tasks')
          .set({ status: 'completed' })
          .where('name', '=', 'task 1')
          .execute();
        expect(await claimedName(workerId)).toBeNull();
        await db()
          .updateTable('job_blocklist')
          .set({ expires_at: ago(1) })
          .execute();
        expect(await claimedName(workerId)).toBe('j/task 0');
      });

      it('not for a worker that already failed the task', async () => {
        const { taskIds } = await seedJob(db(), {
          name: 'j',
          status: 'active',
          tasks: [{ status: 'soft-failed' }],
        });
        const failed = await seedWorker(db());
        const other = await seedWorker(db());
        await db()
          .insertInto('task_failures')
          .values({ task_id: taskIds[0]!, worker_id: failed.workerId })
          .execute();
        expect(await claimedName(failed.workerId)).toBeNull();
        expect(await claimedName(other.workerId)).toBe('j/task 0');
      });

      it('not beyond the job`s max_workers', async () => {
        await seedJob(db(), {
          name: 'capped',
          maxWorkers: 2,
          createdAt: ago(2),
          tasks: [{}, {}, {}],
        });
        await seedJob(db(), { name: 'other', createdAt: ago(1) });
        const names: (string | null)[] = [];
        for (let i = 0; i < 4; i++)
          names.push(await claimedName((await seedWorker(db())).workerId));
        expect(names).toEqual(['capped/task 0', 'capped/task 1', 'other/task 0', null]);
      });
    });
  },
  { resetBetweenTests: true },
);

// Reading the statement's plan keeps it on the partial indexes as the tables grow.
describeEachDatabase('claimTask plan', (getDb) => {
  it('uses tasks_claim_idx and never scans tasks sequentially', async () => {
    const { db } = getDb();
    const { workerId } = await seedWorker(db);
    await sql`insert into jobs (name, type, project_id, status, tasks_total, tasks_queued)
      select 'job ' || g, 'x', (select id from projects limit 1), 'active', 1000, 1000
      from generate_series(1, 20) g`.execute(db);
    await sql`insert into tasks (job_id, idx, name, type, status)
      select j.id, g, 't', 'misc', case when g < 900 then 'completed' else 'queued' end
      from jobs j cross join generate_series(0, 999) g`.execute(db);
    await sql`analyze`.execute(db);
    const { rows } = await sql<{
      'QUERY PLAN': string;
    }>`explain ${claimStatement(workerId)}`.execute(db);
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/tasks_claim_idx/);
    expect(plan).not.toMatch(/Seq Scan on tasks/);
    const result = await claimTask(db, workerId);
    expect(result.task?.index).toBe(900);
  });
});
