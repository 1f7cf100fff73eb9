import type { Transaction } from 'kysely';
import type { Job, JobStatus, TaskStatus, TaskSummary } from '@farm/core';
import type { Database, TaskRow } from '../../db';
import { getApiJob, toApiJobLite } from '../../db/queries/jobs';
import { selectTasksWithWorker, toApiTaskSummary } from '../../db/queries/tasks';
import { publishTasksChanged } from '../jobs/publish-job-events';
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
}

/** A task row the caller already has (from a RETURNING), so it is not read again. */
export interface KnownTask {
  row: TaskRow;
  workerName: string | null;
  previousStatus: TaskStatus;
}

/** Reads what `publishOutcome` needs, inside the transaction that made the change. */
export async function readOutcome(
  trx: Transaction<Database>,
  jobId: string,
  moved: readonly { id: string; previousStatus: TaskStatus }[],
  rolled: RollUpJobResult,
  known: readonly KnownTask[] = [],
): Promise<TaskChangeOutcome> {
  const previous = new Map(moved.map((task) => [task.id, task.previousStatus]));
  const knownIds = new Set(known.map((task) => task.row.id));
  const toRead = moved.filter((task) => !knownIds.has(task.id)).map((task) => task.id);
  const rows =
    toRead.length === 0
      ? []
      : await selectTasksWithWorker(trx).where('t.id', 'in', toRead).execute();
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
    job: await getApiJob(trx, jobId),
    previousJobStatus: rolled.previousStatus,
    canceledTaskIds: rolled.canceledTaskIds,
  };
}

/** Publishes a committed change: `task-updated` per task, then `job-updated`. */
export function publishOutcome(ctx: ServiceContext, outcome: TaskChangeOutcome): void {
  for (const { summary, previousStatus } of outcome.tasks) {
    ctx.publish({
      type: 'task-updated',
      jobId: outcome.jobId,
      task: summary,
      ...(previousStatus !== summary.status ? { previousStatus } : {}),
    });
  }
  publishTasksChanged(ctx, outcome.jobId, outcome.canceledTaskIds);
  ctx.publish({
    type: 'job-updated',
    job: toApiJobLite(outcome.job),
    ...(outcome.job.status !== outcome.previousJobStatus
      ? { previousStatus: outcome.previousJobStatus }
      : {}),
  });
}
