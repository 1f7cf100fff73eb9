import type { JobStatus } from '@farm/core';
import { applyJobAction, submitJob } from '../../../src/services/jobs';
import { rollUpJob, transitionTasks } from '../../../src/services/task-transitions';
import type { TestServiceContext } from './test-service-context';

/** A worker row to assign tasks to. */
export async function insertWorker(ctx: TestServiceContext, name = 'render-01'): Promise<string> {
  const row = await ctx.db
    .insertInto('workers')
    .values({ name, token_hash: `${name}-${Math.random()}` })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The job's task ids in index order. */
export async function taskIdsOf(ctx: TestServiceContext, jobId: string): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom('tasks')
    .select('id')
    .where('job_id', '=', jobId)
    .orderBy('idx')
    .execute();
  return rows.map((row) => row.id);
}

/** What a worker does to a task, through the same primitive the worker side uses. */
export async function workerMoves(
  ctx: TestServiceContext,
  jobId: string,
  taskId: string,
  from: 'queued' | 'active',
  to: 'active' | 'completed' | 'failed',
  workerId?: string,
): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await transitionTasks(trx, {
      jobId,
      taskIds: [taskId],
      from: [from],
      to,
      ...(workerId ? { workerId } : {}),
    });
    await rollUpJob(trx, jobId);
  });
}

/** Submits a 4-task echo-sleep-test job (task 0 first, the others after it). */
export async function submitSmallJob(ctx: TestServiceContext, name = 'job'): Promise<string> {
  const job = await submitJob(ctx, ctx.principal, {
    name,
    type: 'echo-sleep-test',
    settings: { message: 'hi', sleep_repeats: 3 },
  });
  return job.id;
}

/**
 * A fresh 4-task job brought into `status` the way users and workers would (`requeueing` cannot
 * outlive a transaction, so it is written directly, as a crash mid-requeue would leave it).
 */
export async function jobInStatus(ctx: TestServiceContext, status: JobStatus): Promise<string> {
  const jobId = await submitSmallJob(ctx, `in ${status}`);
  const ids = await taskIdsOf(ctx, jobId);
  const worker = await insertWorker(ctx, `w-${status}`);
  const start = () => workerMoves(ctx, jobId, ids[0]!, 'queued', 'active', worker);
  const act = (action: 'pause' | 'cancel' | 'archive') =>
    applyJobAction(ctx, ctx.principal, jobId, { action });
  switch (status) {
    case 'waiting': {
      // Waits for a job of its own (issue 10): the edge as submitJob stores it.
      const blocker = await submitSmallJob(ctx, 'blocker');
      await ctx.db
        .insertInto('job_dependencies')
        .values({ job_id: jobId, depends_on_job_id: blocker })
        .execute();
      await ctx.db.updateTable('jobs').set({ status: 'waiting' }).where('id', '=', jobId).execute();
      break;
    }
    case 'queued':
      break;
    case 'active':
      await start();
      break;
    case 'pause-requested':
      await start();
      await act('pause');
      break;
    case 'paused':
      await act('pause');
      break;
    case 'cancel-requested':
      await start();
      await act('cancel');
      break;
    case 'canceled':
      await act('cancel');
      break;
    case 'completed':
    case 'archived':
      for (const id of ids) {
        await workerMoves(ctx, jobId, id, 'queued', 'active', worker);
        await workerMoves(ctx, jobId, id, 'active', 'completed');
      }
      if (status === 'archived') await act('archive');
      break;
    case 'failed':
      await start();
      await workerMoves(ctx, jobId, ids[0]!, 'active', 'failed');
      break;
    case 'requeueing':
      await ctx.db
        .updateTable('jobs')
        .set({ status: 'requeueing' })
        .where('id', '=', jobId)
        .execute();
      break;
  }
  const row = await ctx.db
    .selectFrom('jobs')
    .select('status')
    .where('id', '=', jobId)
    .executeTakeFirstOrThrow();
  if (row.status !== status) throw new Error(`fixture made a ${row.status} job, not ${status}`);
  ctx.events.length = 0;
  ctx.stopped.length = 0;
  ctx.wakeups = 0;
  return jobId;
}
