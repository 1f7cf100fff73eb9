import type { Transaction } from 'kysely';
import type { TaskStatus, TaskSummary } from '@farm/core';
import type { Database } from '../../db';
import { selectTasksWithWorker, toApiTaskSummary } from '../../db/queries/tasks';
import type { ServiceContext } from '../service-context';

/** `tasks-bulk-updated` lists task ids only up to this many (the schema's limit). */
const MAX_LISTED_TASK_IDS = 1000;

/**
 * Up to this many changed tasks of one job are published as one `task-updated` each (the event
 * bus's own bulk threshold); more go out as a single `tasks-bulk-updated`, so a 100,000-task
 * cancel costs one event, not 100,000, and no read of 100,000 rows.
 */
export const SINGLE_TASK_EVENTS_UP_TO = 10;

/** A task whose status changed, with the status it had before. */
export interface TaskStatusChange {
  id: string;
  previousStatus: TaskStatus;
}

/** What `publishTaskChanges` sends: the changed tasks one by one, or only their ids. */
export interface TaskChanges {
  jobId: string;
  /** Each changed task as it is now (when there are few). */
  tasks: { summary: TaskSummary; previousStatus: TaskStatus }[];
  /** The changed tasks when there are many: one `tasks-bulk-updated`. */
  bulkTaskIds: string[];
}

/** The changes without repeats (a task moved twice in one transaction keeps its first status). */
export function distinctChanges(changes: readonly TaskStatusChange[]): TaskStatusChange[] {
  const byId = new Map<string, TaskStatusChange>();
  for (const change of changes) if (!byId.has(change.id)) byId.set(change.id, change);
  return [...byId.values()];
}

/**
 * Reads, inside the transaction that made them, what publishing a job's task changes needs:
 * every task whose status changed, whether moved by the action itself, by the dependency cascade
 * or by the job's roll-up. Tasks in `known` (already read by the caller) are not read again.
 */
export async function readTaskChanges(
  trx: Transaction<Database>,
  jobId: string,
  changes: readonly TaskStatusChange[],
  known: readonly TaskSummary[] = [],
): Promise<TaskChanges> {
  const distinct = distinctChanges(changes);
  if (distinct.length > SINGLE_TASK_EVENTS_UP_TO) {
    return { jobId, tasks: [], bulkTaskIds: distinct.map((change) => change.id) };
  }
  const summaries = new Map(known.map((summary) => [summary.id, summary]));
  const toRead = distinct.filter((change) => !summaries.has(change.id)).map((change) => change.id);
  if (toRead.length > 0) {
    const rows = await selectTasksWithWorker(trx).where('t.id', 'in', toRead).execute();
    for (const row of rows) summaries.set(row.id, toApiTaskSummary(row, row.worker_name));
  }
  const tasks: TaskChanges['tasks'] = [];
  for (const change of distinct) {
    const summary = summaries.get(change.id);
    if (summary) tasks.push({ summary, previousStatus: change.previousStatus });
  }
  return { jobId, tasks, bulkTaskIds: [] };
}

/** Publishes committed task changes of one job (before the job's own `job-updated`). */
export function publishTaskChanges(ctx: ServiceContext, changes: TaskChanges): void {
  for (const { summary, previousStatus } of changes.tasks) {
    ctx.publish({
      type: 'task-updated',
      jobId: changes.jobId,
      task: summary,
      ...(previousStatus !== summary.status ? { previousStatus } : {}),
    });
  }
  publishTasksChanged(ctx, changes.jobId, changes.bulkTaskIds);
}

/** Tells subscribers of a job that many of its tasks changed and should be fetched again. */
export function publishTasksChanged(
  ctx: ServiceContext,
  jobId: string,
  taskIds: readonly string[],
): void {
  if (taskIds.length === 0) return;
  ctx.publish({
    type: 'tasks-bulk-updated',
    jobId,
    refresh: true,
    ...(taskIds.length <= MAX_LISTED_TASK_IDS ? { taskIds: [...taskIds] } : {}),
  });
}
