/** Every status a task can have. */
export const TASK_STATUSES = [
  'queued',
  'active',
  'completed',
  'soft-failed',
  'failed',
  'canceled',
  'paused',
] as const;

export type TaskStatus = (typeof TASK_STATUSES)[number];

/** True when `value` is one of `TASK_STATUSES`. */
export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === 'string' && (TASK_STATUSES as readonly string[]).includes(value);
}

/**
 * Statuses a worker may claim. A soft-failed task is runnable again, only never by a worker that
 * already failed it (the scheduler's rule).
 */
export const RUNNABLE_TASK_STATUSES = [
  'queued',
  'soft-failed',
] as const satisfies readonly TaskStatus[];

/** True for `queued` and `soft-failed`. */
export function isRunnableTaskStatus(status: TaskStatus): boolean {
  return (RUNNABLE_TASK_STATUSES as readonly TaskStatus[]).includes(status);
}
