import { TASK_STATUSES, type TaskStatus } from './task-status';

/** How many of a job's tasks are in each status (the manager keeps these as counters). */
export type TaskCounts = Record<TaskStatus, number>;

/** Counts with every status at zero. */
export function emptyTaskCounts(): TaskCounts {
  return {
    queued: 0,
    active: 0,
    completed: 0,
    'soft-failed': 0,
    failed: 0,
    canceled: 0,
    paused: 0,
  };
}

/** The number of tasks the counts describe. */
export function totalTasks(counts: Readonly<TaskCounts>): number {
  let total = 0;
  for (const status of TASK_STATUSES) total += counts[status];
  return total;
}

/** Counts of a list of task statuses. */
export function countTaskStatuses(statuses: Iterable<TaskStatus>): TaskCounts {
  const counts = emptyTaskCounts();
  for (const status of statuses) counts[status] += 1;
  return counts;
}
