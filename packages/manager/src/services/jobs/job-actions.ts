import { sql } from 'kysely';
import {
  assertJobAction,
  isFarmError,
  isSchedulableJobStatus,
  JOB_ACTION_TASK_EFFECTS,
  jobActionTarget,
  toFarmError,
  validationError,
  type ApiErrorBody,
  type Job,
  type JobAction,
  type JobStatus,
} from '@farm/core';
import {
  getApiJob,
  jobProgress,
  lockJob,
  toApiJobLite,
  toApiTaskCounts,
} from '../../db/queries/jobs';
import type { Principal } from '../../http/principal';
import type { ServiceContext } from '../service-context';
import { jobTaskCounts, rollUpJob, transitionTasks } from '../task-transitions';
import {
  publishTaskChanges,
  readTaskChanges,
  type TaskChanges,
  type TaskStatusChange,
} from './publish-job-events';
import { deleteJobPreviews } from '../previews/last-rendered';

export interface JobActionInput {
  action: JobAction;
  /** The new priority (0..100); required for `set-priority`. */
  priority?: number;
  /** Why, for the job's activity line. */
  reason?: string;
}

const ACTION_WORDS: Record<JobAction, string> = {
  cancel: 'Canceled',
  pause: 'Paused',
  resume: 'Resumed',
  requeue: 'Requeued',
  'requeue-failed': 'Requeued the failed tasks',
  archive: 'Archived',
  delete: 'Deleted',
  'set-priority': 'Priority set',
};

function actorName(principal: Principal | null): string {
  return principal === null ? 'the manager' : principal.name;
}

function activityLine(input: JobActionInput, principal: Principal | null): string {
  const what =
    input.action === 'set-priority'
      ? `Priority set to ${input.priority ?? '?'}`
      : ACTION_WORDS[input.action];
  return `${what} by ${actorName(principal)}${input.reason ? `: ${input.reason}` : ''}`;
}

interface ActionOutcome {
  job: Job;
  previousStatus: JobStatus;
  deleted: boolean;
  /** Tasks whose workers must stop now. */
  stopTaskIds: string[];
  /** Tasks whose status changed: the action's move, its dependency cascade, the roll-up. */
  taskChanges: TaskChanges | null;
}

/**
 * Applies a person's action to a job in one transaction, following core's rules: the job row is
 * locked, the action checked against the job's status (`invalid_transition`, 409, naming the
 * allowed actions, with nothing changed), the action's bulk task move applied, failures and
 * blocklist cleared where the action says so, the new status written and rolled up. After the
 * commit the workers of stopped tasks are told at once and the change is published.
 * `delete` answers with the job as it was.
 */
export async function applyJobAction(
  ctx: ServiceContext,
  principal: Principal | null,
  jobId: string,
  input: JobActionInput,
): Promise<Job> {
  const outcome = await ctx.db.transaction().execute(async (trx): Promise<ActionOutcome> => {
    const job = await lockJob(trx, jobId);
    const previousStatus = job.status;
    if (input.action === 'set-priority') {
      assertJobAction(job.status, input.action);
      if (input.priority === undefined) {
        throw validationError('set-priority needs a priority', [
          { path: 'priority', message: 'is required for set-priority (0 to 100)' },
        ]);
      }
    }
    const target = jobActionTarget(job.status, input.action, jobTaskCounts(job));
    const effect = JOB_ACTION_TASK_EFFECTS[input.action];
    const stopTaskIds =
      effect.stopActiveTasks && job.tasks_active > 0
        ? (
            await trx
              .selectFrom('tasks')
              .select('id')
              .where('job_id', '=', jobId)
              .where('status', '=', 'active')
              .execute()
          ).map((row) => row.id)
        : [];

    if (target === 'deleted') {
      const before = await getApiJob(trx, jobId);
      await trx.deleteFrom('jobs').where('id', '=', jobId).execute();
      return { job: before, previousStatus, deleted: true, stopTaskIds, taskChanges: null };
    }

    const activity = activityLine(input, principal);
    const changes: TaskStatusChange[] = [];
    if (effect.move !== null) {
      const { moved, cascaded } = await transitionTasks(trx, {
        jobId,
        from: effect.move.from,
        to: effect.move.to,
        activity,
        clearFailures: effect.clearTaskFailures,
      });
      changes.push(...moved, ...cascaded);
    }
    if (effect.clearJobBlocklist) {
      await trx.deleteFrom('job_blocklist').where('job_id', '=', jobId).execute();
    }

    const counted = await trx
      .selectFrom('jobs')
      .selectAll()
      .where('id', '=', jobId)
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('jobs')
      .set({
        status: target,
        activity,
        updated_at: sql<Date>`now()`,
        ...(input.action === 'set-priority' && input.priority !== undefined
          ? { priority: input.priority }
          : {}),
        ...(input.action === 'archive'
          ? {
              archived_summary: JSON.stringify({
                previousStatus,
                taskCounts: toApiTaskCounts(counted),
                progress: jobProgress(counted),
                archivedAt: new Date().toISOString(),
                archivedBy: actorName(principal),
                ...(input.reason ? { reason: input.reason } : {}),
              }),
            }
          : {}),
      })
      .where('id', '=', jobId)
      .where('status', '=', previousStatus)
      .executeTakeFirstOrThrow();

    const rolled = await rollUpJob(trx, jobId);
    changes.push(...rolled.canceled);
    return {
      job: await getApiJob(trx, jobId),
      previousStatus,
      deleted: false,
      stopTaskIds,
      taskChanges: await readTaskChanges(trx, jobId, changes),
    };
  });

  const reason = activityLine(input, principal);
  if (outcome.stopTaskIds.length > 0) ctx.stopTasks(outcome.stopTaskIds, reason);
  if (outcome.deleted) {
    ctx.publish({ type: 'job-deleted', jobId });
    try {
      await ctx.logs.deleteJob(jobId);
      await deleteJobPreviews(ctx, jobId);
    } catch (error) {
      ctx.logger.warn('could not delete the logs of a deleted job', {
        jobId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    return outcome.job;
  }
  if (outcome.taskChanges) publishTaskChanges(ctx, outcome.taskChanges);
  ctx.publish({
    type: 'job-updated',
    job: toApiJobLite(outcome.job),
    ...(outcome.job.status !== outcome.previousStatus
      ? { previousStatus: outcome.previousStatus }
      : {}),
  });
  if (
    isSchedulableJobStatus(outcome.job.status) &&
    (input.action === 'resume' ||
      input.action === 'requeue' ||
      input.action === 'requeue-failed' ||
      input.action === 'set-priority')
  ) {
    ctx.wakeWorkers();
  }
  return outcome.job;
}

/** The result of one job of a bulk action. */
export interface BulkJobActionItem {
  jobId: string;
  ok: boolean;
  job?: Job;
  error?: ApiErrorBody;
}

/** An error as the API's error body. */
export function toErrorBody(error: unknown): ApiErrorBody {
  const farmError = toFarmError(error);
  return {
    code: farmError.code,
    message: farmError.code === 'internal' ? 'internal error' : farmError.message,
    ...(farmError.details !== undefined ? { details: farmError.details } : {}),
  };
}

/**
 * Applies one action to many jobs, each in its own transaction: a job that refuses the action
 * (or is gone) gets its error in its result and does not stop the others. Results follow the
 * order of `jobIds`.
 */
export async function applyBulkJobAction(
  ctx: ServiceContext,
  principal: Principal | null,
  request: JobActionInput & { jobIds: readonly string[] },
): Promise<{ results: BulkJobActionItem[] }> {
  const { jobIds, ...input } = request;
  const results: BulkJobActionItem[] = [];
  for (const jobId of jobIds) {
    try {
      results.push({ jobId, ok: true, job: await applyJobAction(ctx, principal, jobId, input) });
    } catch (error) {
      if (!isFarmError(error) || error.code === 'internal') {
        ctx.logger.error('bulk job action failed', {
          jobId,
          action: input.action,
          error: error instanceof Error ? error.stack : String(error),
        });
      }
      results.push({ jobId, ok: false, error: toErrorBody(error) });
    }
  }
  return { results };
}
