import { taskStatusWhenStopped } from '@farm/core';
import { lockJob } from '../../db/queries/jobs';
import { findActiveTasksOfWorker } from '../../db/queries/workers';
import { rollUpJob, transitionTasks } from '../task-transitions';
import type { ServiceContext } from '../service-context';
import { countLogBytes, managerLog, writeLogs, type PendingLog } from './task-log-lines';
import { publishOutcome, readOutcome, type TaskChangeOutcome } from './task-outcome';

/**
 * Takes a worker's active tasks away from it without counting a failure (it signed off, was told
 * to stop, went to sleep or timed out): each becomes what `taskStatusWhenStopped` says for its
 * job (queued for another worker at once, paused, or canceled), with `reason` as its activity and
 * a manager line in its log. Only tasks still active on this worker move. Resolves their ids.
 */
export async function handBackWorkerTasks(
  ctx: ServiceContext,
  worker: { id: string; name: string },
  reason: string,
  onlyTaskIds?: readonly string[],
): Promise<string[]> {
  const active = await findActiveTasksOfWorker(ctx.db, worker.id);
  const wanted = onlyTaskIds ? new Set(onlyTaskIds) : null;
  const byJob = new Map<string, string[]>();
  for (const task of active) {
    if (wanted && !wanted.has(task.id)) continue;
    byJob.set(task.job_id, [...(byJob.get(task.job_id) ?? []), task.id]);
  }
  const handedBack: string[] = [];
  let requeued = false;
  for (const jobId of [...byJob.keys()].sort()) {
    const logs: PendingLog[] = [];
    const outcome: TaskChangeOutcome | null = await ctx.db.transaction().execute(async (trx) => {
      const job = await lockJob(trx, jobId);
      const to = taskStatusWhenStopped(job.status);
      // Re-read under the job lock: a task requeued and claimed by another worker since the
      // first read is not ours to move.
      const mine = await trx
        .selectFrom('tasks')
        .select('id')
        .where('id', 'in', byJob.get(jobId)!)
        .where('worker_id', '=', worker.id)
        .where('status', '=', 'active')
        .execute();
      if (mine.length === 0) return null;
      const { moved } = await transitionTasks(trx, {
        jobId,
        taskIds: mine.map((task) => task.id),
        from: ['active'],
        to,
        activity: reason,
      });
      if (moved.length === 0) return null;
      for (const task of moved) {
        logs.push(managerLog(jobId, task.id, `${reason}; the task is now ${to}`));
      }
      await countLogBytes(trx, logs);
      const rolled = await rollUpJob(trx, jobId);
      if (to === 'queued') requeued = true;
      return readOutcome(trx, jobId, moved, rolled);
    });
    if (!outcome) continue;
    handedBack.push(...outcome.tasks.map((task) => task.summary.id));
    await writeLogs(ctx, logs);
    publishOutcome(ctx, outcome);
  }
  if (requeued) ctx.wakeWorkers();
  return handedBack;
}
