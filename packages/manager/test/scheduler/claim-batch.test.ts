import { createClaimQueue } from '../../src/scheduler/claim-queue';
import { claimBatchStatement, claimTasks } from '../../src/scheduler/claim-task';
import { describeEachDatabase } from '../support/test-database';
import { countedByStatus, createProject, jobCounters, jobRow, seedJob, seedWorker } from './seed';

const HOUR_MS = 3600_000;
const ago = (hours: number) => new Date(Date.now() - hours * HOUR_MS);

// Many workers' claims in one statement (claimTasks, used through the claim queue): each worker
// is judged by the same rules as alone, and no two workers get one task.
describeEachDatabase(
  'claimTasks (one statement for many workers)',
  (getDb) => {
    const db = () => getDb().db;

    async function workers(n: number, taskTypes?: string[]): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < n; i++)
        ids.push((await seedWorker(db(), { name: `w${i}`, taskTypes })).workerId);
      return ids;
    }

    it('hands distinct tasks in order to every worker of the batch and moves the counters once', async () => {
      const { jobId } = await seedJob(db(), { tasks: Array.from({ length: 6 }, () => ({})) });
      const ids = await workers(4);
      const results = await claimTasks(
        db(),
        ids.map((workerId) => ({ workerId })),
      );
      expect(results.map((r) => r.task?.index)).toEqual([0, 1, 2, 3]);
      expect(results.map((r) => r.task?.previousJobStatus)).toEqual([
        'queued',
        'queued',
        'queued',
        'queued',
      ]);
      expect(results.every((r) => r.task?.jobStatus === 'active' && !r.reclaimed)).toBe(true);
      expect((await jobRow(db(), jobId)).status).toBe('active');
      expect(await jobCounters(db(), jobId)).toEqual({ queued: 2, active: 4 });
      expect(await jobCounters(db(), jobId)).toEqual(await countedByStatus(db(), jobId));
    });

    it('spreads one statement over small jobs in their order: every worker gets a task at once', async () => {
      // Ten jobs of two tasks, twenty workers: one statement, no second round.
      for (let i = 0; i < 10; i++)
        await seedJob(db(), { name: `small ${i}`, createdAt: ago(20 - i), tasks: [{}, {}] });
      const ids = await workers(20);
      const { rows } = await claimBatchStatement(ids.map((workerId) => ({ workerId }))).execute(
        db(),
      );
      const byWorker = new Map(rows.map((row) => [row.worker_id, row]));
      const names = ids.map((id) => `${byWorker.get(id)?.job_name}/${byWorker.get(id)?.name}`);
      expect(names).toEqual(
        Array.from({ length: 20 }, (_, k) => `small ${Math.floor(k / 2)}/task ${k % 2}`),
      );
    });

    it('keeps max_workers exact inside one batch; the others take the next job or nothing', async () => {
      const capped = await seedJob(db(), {
        name: 'capped',
        maxWorkers: 2,
        createdAt: ago(2),
        tasks: [{}, {}, {}],
      });
      await seedJob(db(), { name: 'other', createdAt: ago(1) });
      const results = await claimTasks(
        db(),
        (await workers(4)).map((workerId) => ({ workerId })),
      );
      const names = results.map((r) => (r.task ? `${r.task.jobName}/${r.task.name}` : null));
      expect(names).toEqual(['capped/task 0', 'capped/task 1', 'other/task 0', null]);
      expect(await jobCounters(db(), capped.jobId)).toEqual({ queued: 1, active: 2 });
    });

    it('shares one batch between projects of equal priority as claims one by one would', async () => {
      const other = await createProject(db(), 'b');
      await seedJob(db(), {
        name: 'a',
        createdAt: ago(2),
        tasks: Array.from({ length: 9 }, () => ({})),
      });
      await seedJob(db(), {
        name: 'b',
        projectId: other,
        createdAt: ago(1),
        tasks: Array.from({ length: 9 }, () => ({})),
      });
      const first = await claimTasks(db(), [{ workerId: (await workers(1))[0]! }]);
      expect(first[0]!.task?.jobName).toBe('a');
      // Project a runs 1 task and b none: of five more workers, b gets three and a two.
      const results = await claimTasks(
        db(),
        (await workers(5)).map((workerId) => ({ workerId })),
      );
      const names = results.map((r) => r.task?.jobName).sort();
      expect(names).toEqual(['a', 'a', 'b', 'b', 'b']);
    });

    it('judges each worker alone: task types and failures differ within one batch', async () => {
      const { taskIds } = await seedJob(db(), {
        status: 'active',
        tasks: [{ type: 'blender', status: 'soft-failed' }, { type: 'misc' }, { type: 'misc' }],
      });
      const [failedIt, miscOnly, any] = await workers(3);
      const { workerId: blenderOnly } = await seedWorker(db(), { taskTypes: ['blender'] });
      await db()
        .insertInto('task_failures')
        .values({ task_id: taskIds[0]!, worker_id: failedIt! })
        .execute();
      await db()
        .updateTable('workers')
        .set({ task_types: ['misc'] })
        .where('id', '=', miscOnly!)
        .execute();
      const results = await claimTasks(db(), [
        { workerId: failedIt! },
        { workerId: miscOnly! },
        { workerId: any! },
        { workerId: blenderOnly },
      ]);
      const got = results.map((r) => r.task?.id ?? null);
      // Every worker gets a task it may run, none twice, and the blender task goes to a worker
      // that may take it (never the one that failed it).
      expect(new Set(got.filter(Boolean)).size).toBe(3);
      expect(got[0]).not.toBe(taskIds[0]);
      expect(got[1]).not.toBe(taskIds[0]);
      expect([got[2], got[3]]).toContain(taskIds[0]);
      expect(results.filter((r) => r.task).length).toBe(3);
    });

    it('gives a restarted worker its own task back while the batch assigns the others', async () => {
      await seedJob(db(), { tasks: [{}, {}, {}] });
      const [restarted, fresh] = await workers(2);
      const [first] = await claimTasks(db(), [{ workerId: restarted! }]);
      const results = await claimTasks(db(), [{ workerId: restarted! }, { workerId: fresh! }]);
      expect(results[0]).toMatchObject({ reclaimed: true, task: { id: first!.task!.id } });
      expect(results[1]!.task?.index).toBe(1);
    });

    it('answers a worker that does not exist with no worker, the others normally', async () => {
      await seedJob(db(), { tasks: [{}] });
      const [real] = await workers(1);
      const results = await claimTasks(db(), [
        { workerId: '00000000-0000-4000-8000-000000000000' },
        { workerId: real! },
      ]);
      expect(results[0]).toEqual({ worker: null, task: null, reclaimed: false });
      expect(results[1]!.task?.index).toBe(0);
    });

    it('the queue batches concurrent claims and never gives one worker two tasks', async () => {
      const { jobId } = await seedJob(db(), { tasks: Array.from({ length: 10 }, () => ({})) });
      const ids = await workers(5);
      const queue = createClaimQueue(db());
      // The first worker asks twice at once (two sockets of one restarted worker).
      const results = await Promise.all([
        queue.submit({ workerId: ids[0]! }),
        ...ids.map((workerId) => queue.submit({ workerId })),
      ]);
      const taskIds = results.map((r) => r.task!.id);
      expect(taskIds[0]).toBe(taskIds[1]);
      expect(results[1]!.reclaimed).toBe(true);
      expect(new Set(taskIds).size).toBe(5);
      expect(await jobCounters(db(), jobId)).toEqual({ queued: 5, active: 5 });
      expect(queue.pending).toBe(0);
    });
  },
  { resetBetweenTests: true },
);
