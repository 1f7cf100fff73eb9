import { sql } from 'kysely';
import { claimTask } from '../../src/scheduler/claim-task';
import { rollUpJob, transitionTasks } from '../../src/services/task-transitions';
import {
  createTestDatabase,
  TEST_DATABASE_TIMEOUT_MS,
  type TestDatabase,
} from '../support/test-database';
import { countedByStatus, jobCounters, seedJob, seedWorker } from './seed';

const postgres = process.env.FARM_TEST_DATABASE_URL ? describe : describe.skip;
if (!process.env.FARM_TEST_DATABASE_URL) {
  console.log(
    'claim concurrency: skipped, FARM_TEST_DATABASE_URL is not set (needs real Postgres)',
  );
}

postgres('claimTask under concurrency [postgres]', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
  }, TEST_DATABASE_TIMEOUT_MS);
  afterAll(() => testDb?.dispose());

  it('50 workers on 10 connections never share a task and claim each exactly once', async () => {
    const { db } = testDb.database;
    const jobs = [];
    for (let j = 0; j < 4; j++) {
      jobs.push(
        await seedJob(db, { name: `j${j}`, tasks: Array.from({ length: 150 }, () => ({})) }),
      );
    }
    // A fifth job is canceled by a person while the claims run: lock order must hold (no deadlock).
    const canceled = await seedJob(db, {
      name: 'canceled',
      tasks: Array.from({ length: 100 }, () => ({})),
    });
    const workers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => seedWorker(db, { name: `w${i}` })),
    );
    const claims = new Map<string, string[]>();
    let canceledAfterCancel = 0;
    let cancelDone = false;

    async function work(workerId: string): Promise<void> {
      for (;;) {
        const { task } = await claimTask(db, workerId);
        if (!task) return;
        if (task.jobId === canceled.jobId && cancelDone) canceledAfterCancel++;
        claims.set(task.id, [...(claims.get(task.id) ?? []), workerId]);
        await db.transaction().execute(async (trx) => {
          await transitionTasks(trx, {
            jobId: task.jobId,
            taskIds: [task.id],
            from: ['active'],
            to: 'completed',
          });
          await rollUpJob(trx, task.jobId);
        });
      }
    }

    const cancel = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      await db.transaction().execute(async (trx) => {
        await sql`update jobs set status = 'cancel-requested' where id = ${canceled.jobId}`.execute(
          trx,
        );
        await transitionTasks(trx, {
          jobId: canceled.jobId,
          from: ['queued', 'soft-failed'],
          to: 'canceled',
        });
      });
      cancelDone = true;
    })();
    await Promise.all([...workers.map((w) => work(w.workerId)), cancel]);

    const seeded = jobs.flatMap((job) => job.taskIds);
    for (const id of seeded) expect(claims.get(id)).toHaveLength(1);
    for (const [, by] of claims) expect(by).toHaveLength(1);
    expect(canceledAfterCancel).toBe(0);
    for (const job of [...jobs, canceled]) {
      expect(await jobCounters(db, job.jobId)).toEqual(await countedByStatus(db, job.jobId));
    }
    for (const job of jobs)
      expect(await countedByStatus(db, job.jobId)).toEqual({ completed: 150 });
  }, 120_000);
});
