import { sql } from 'kysely';
import {
  FarmError,
  isFarmError,
  isRunnableTaskStatus,
  taskActionTarget,
  type ApiErrorBody,
  type Task,
  type TaskAction,
  type TaskStatus,
  type TaskSummary,
} from '@farm/core';
import { getApiJob, lockJob, toApiJobLite } from '../../db/queries/jobs';
import { selectTasksWithWorker, taskNotFound, toApiTaskSummary } from '../../db/queries/tasks';
import type { Principal } from '../../http/principal';
import type { ServiceContext } from '../service-context';
import { rollUpJob, transitionTasks } from '../task-transitions';
import { toErrorBody } from './job-actions';
import { getTask } from './get-task';
import { publishTaskChanges, readTaskChanges, type TaskStatusChange } from './publish-job-events';

export interface TaskActionInput {
  action: TaskAction;
  reason?: string;
}

/** The result of one task of a (bulk) task action. */
export interface BulkTaskActionItem {
  taskId: string;
  ok: boolean;
  task?: TaskSummary;
  error?: ApiErrorBody;
}

function activityLine(input: TaskActionInput, principal: Principal | null): string {
  const who = principal === null ? 'the manager' : principal.name;
  const what = input.action === 'requeue' ? 'Requeued' : 'Canceled';
  return `${what} by ${who}${input.reason ? `: ${input.reason}` : ''}`;
}

/**
 * Requeues or cancels tasks. Tasks are grouped by job and each job's group is one transaction
 * (job row locked first, then its tasks); each task is checked on its own, so one refused task
 * (409 with its allowed actions) or unknown id (404) does not stop the others. Only the named
 * tasks change: requeueing one task of a completed job reopens the job for that task alone.
 * Canceling an active task tells its worker to stop at once. Results follow the order given.
 */
export async function applyTaskActions(
  ctx: ServiceContext,
  principal: Principal | null,
  taskIds: readonly string[],
  input: TaskActionInput,
): Promise<BulkTaskActionItem[]> {
  const results = new Map<string, BulkTaskActionItem>();
  const owners = await ctx.db
    .selectFrom('tasks')
    .select(['id', 'job_id'])
    .where(sql<boolean>`id = any(${[...taskIds]}::uuid[])`)
    .execute();
  const byJob = new Map<string, string[]>();
  for (const row of owners) {
    const ids = byJob.get(row.job_id) ?? [];
    ids.push(row.id);
    byJob.set(row.job_id, ids);
  }
  const activity = activityLine(input, principal);

  // Jobs in id order, so two bulk requests over the same jobs lock them in the same order.
  for (const jobId of [...byJob.keys()].sort()) {
    const ids = byJob.get(jobId)!;
    try {
      const outcome = await ctx.db.transaction().execute(async (trx) => {
        const job = await lockJob(trx, jobId);
        const tasks = await trx
          .selectFrom('tasks')
          .select(['id', 'status'])
          .where('job_id', '=', jobId)
          .where('id', 'in', ids)
          .forNoKeyUpdate()
          .execute();
        const groups = new Map<string, { from: TaskStatus; to: TaskStatus; ids: string[] }>();
        for (const task of tasks) {
          try {
            const to = taskActionTarget(task.status, input.action, job.status);
            const key = `${task.status}>${to}`;
            const group = groups.get(key) ?? { from: task.status, to, ids: [] };
            group.ids.push(task.id);
            groups.set(key, group);
          } catch (error) {
            results.set(task.id, { taskId: task.id, ok: false, error: toErrorBody(error) });
          }
        }
        const stopTaskIds: string[] = [];
        const changed: string[] = [];
        const changes: TaskStatusChange[] = [];
        for (const group of groups.values()) {
          const { moved, cascaded } = await transitionTasks(trx, {
            jobId,
            taskIds: group.ids,
            from: [group.from],
            to: group.to,
            activity,
            ...(input.action === 'requeue' ? { workerId: null, clearFailures: true } : {}),
          });
          for (const task of moved) {
            changed.push(task.id);
            if (task.previousStatus === 'active') stopTaskIds.push(task.id);
          }
          changes.push(...moved, ...cascaded);
        }
        if (changed.length === 0) return null;
        const rolled = await rollUpJob(trx, jobId);
        changes.push(...rolled.canceled);
        const rows = await selectTasksWithWorker(trx).where('t.id', 'in', changed).execute();
        const summaries = rows.map((row) => toApiTaskSummary(row, row.worker_name));
        return {
          previousStatus: rolled.previousStatus,
          job: await getApiJob(trx, jobId),
          summaries,
          taskChanges: await readTaskChanges(trx, jobId, changes, summaries),
          stopTaskIds,
        };
      });
      if (outcome === null) continue;
      for (const task of outcome.summaries)
        results.set(task.id, { taskId: task.id, ok: true, task });
      if (outcome.stopTaskIds.length > 0) ctx.stopTasks(outcome.stopTaskIds, activity);
      publishTaskChanges(ctx, outcome.taskChanges);
      ctx.publish({
        type: 'job-updated',
        job: toApiJobLite(outcome.job),
        ...(outcome.job.status !== outcome.previousStatus
          ? { previousStatus: outcome.previousStatus }
          : {}),
      });
      if (outcome.summaries.some((task) => isRunnableTaskStatus(task.status))) ctx.wakeWorkers();
    } catch (error) {
      // The whole job failed (say it was deleted meanwhile): every task of it gets the error.
      const body = toErrorBody(error);
      if (!isFarmError(error)) {
        ctx.logger.error('task action failed', {
          jobId,
          error: error instanceof Error ? error.stack : String(error),
        });
      }
      for (const id of ids)
        if (!results.has(id)) results.set(id, { taskId: id, ok: false, error: body });
    }
  }

  return taskIds.map(
    (taskId) =>
      results.get(taskId) ?? { taskId, ok: false, error: toErrorBody(taskNotFound(taskId)) },
  );
}

/**
 * Requeues or cancels one task and answers with the task after the action.
 *
 * @throws FarmError `not_found`, or `invalid_transition` (409) with the allowed actions.
 */
export async function applyTaskAction(
  ctx: ServiceContext,
  principal: Principal | null,
  taskId: string,
  input: TaskActionInput,
): Promise<Task> {
  const [result] = await applyTaskActions(ctx, principal, [taskId], input);
  if (result && !result.ok && result.error) {
    throw new FarmError(result.error.code, result.error.message, {
      details: result.error.details,
    });
  }
  return getTask(ctx, taskId);
}
