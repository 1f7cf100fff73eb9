import type { Transaction } from 'kysely';
import type { Job, JobStatus, TaskStatus, TaskSummary } from '@farm/core';
import type { Database, TaskRow } from '../../db';
import {
  getApiJob,
  toApiJobFromRefs,
  toApiJobLite,
  type JobWithRefsRow,
} from '../../db/queries/jobs';
import { selectTasksWithWorker, toApiTaskSummary } from '../../db/queries/tasks';
import {
  distinctChanges,
  publishTasksChanged,
  SINGLE_TASK_EVENTS_UP_TO,
} from '../jobs/publish-job-events';
import type { ServiceContext } from '../service-context';
import type { RollUpJobResult } from '../task-transitions';

/** What a committed task change publishes: the tasks as they are now and their job. */
export interface TaskChangeOutcome {
  jobId: string;
  tasks: { summary: TaskSummary; previousStatus: TaskStatus }[];
  job: Job;
  previousJobStatus: JobStatus;
  /** Tasks the job's roll-up canceled (leftovers of a failed job). */
  canceledTaskIds: string[];
  /**
   * Changed tasks published only by id, in one `tasks-bulk-updated`: the roll-up's cancellations
   * and the dependency cascade's moves when there are too many to send one by one.
   */
  bulkTaskIds: string[];
}

/** A task row the caller already has (from a RETURNING), so it is not read again. */
export interface KnownTask {
  row: TaskRow;
  workerName: string | null;
  previousStatus: TaskStatus;
}

/**
 * Reads what `publishOutcome` needs, inside the transaction that made the change. Every task whose
 * status changed gets its own `task-updated` (the tasks in `known` always do); when more than
 * `SINGLE_TASK_EVENTS_UP_TO` others changed (a cascade through many dependents, a failed job's
 * leftovers), those go out by id in one `tasks-bulk-updated` and are not read.
 */
export async function readOutcome(
  trx: Transaction<Database>,
  jobId: string,
  moved: readonly { id: string; previousStatus: TaskStatus }[],
  rolled: RollUpJobResult,
  known: readonly KnownTask[] = [],
  /** The job's project and submitter names, when the caller read them with its lock. */
  refs?: Pick<JobWithRefsRow, 'project_name' | 'submitter_name'>,
): Promise<TaskChangeOutcome> {
  const knownIds = new Set(known.map((task) => task.row.id));
  const others = distinctChanges([...moved, ...rolled.canceled]).filter(
    (task) => !knownIds.has(task.id),
  );
  const few = others.length <= SINGLE_TASK_EVENTS_UP_TO;
  const previous = new Map(others.map((task) => [task.id, task.previousStatus]));
  const rows =
    !few || others.length === 0
      ? []
      : await selectTasksWithWorker(trx)
          .where(
            't.id',
            'in',
            others.map((task) => task.id),
          )
          .execute();
  return {
    jobId,
    tasks: [
      ...known.map((task) => ({
        summary: toApiTaskSummary(task.row, task.workerName),
        previousStatus: task.previousStatus,
      })),
      ...rows.map((row) => ({
        summary: toApiTaskSummary(row, row.worker_name),
        previousStatus: previous.get(row.id) as TaskStatus,
      })),
    ],
    job: refs ? toApiJobFromRefs({ ...rolled.job, ...refs }) : await getApiJob(trx, jobId),
    previousJobStatus: rolled.previousStatus,
    canceledTaskIds: rolled.canceledTaskIds,
    bulkTaskIds: few ? [] : others.map((task) => task.id),
  };
}

/** Publishes a committed change: `task-updated` per task (or one bulk event), then `job-updated`. */
export function publishOutcome(ctx: ServiceContext, outcome: TaskChangeOutcome): void {
  for (const { summary, previousStatus } of outcome.tasks) {
    ctx.publish({
      type: 'task-updated',
      jobId: outcome.jobId,
      task: summary,
      ...(previousStatus !== summary.status ? { previousStatus } : {}),
    });
  }
  publishTasksChanged(ctx, outcome.jobId, outcome.bulkTaskIds);
  ctx.publish({
    type: 'job-updated',
    job: toApiJobLite(outcome.job),
    ...(outcome.job.status !== outcome.previousJobStatus
      ? { previousStatus: outcome.previousJobStatus }
      : {}),
  });
}
