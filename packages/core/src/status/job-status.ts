/** Every status a job can have. Order is the lifecycle order, so UIs can sort by it. */
export const JOB_STATUSES = [
  // Held back until the jobs it depends on complete (`dependsOnJobs`); never claimable.
  'waiting',
  'queued',
  'active',
  'pause-requested',
  'paused',
  'cancel-requested',
  'canceled',
  'completed',
  'failed',
  'requeueing',
  'archived',
] as const;

export type JobStatus = (typeof JOB_STATUSES)[number];

/** True when `value` is one of `JOB_STATUSES`. */
export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === 'string' && (JOB_STATUSES as readonly string[]).includes(value);
}

/**
 * Statuses in which a job does nothing more on its own: only a person (an action) or a hand-requeued
 * task moves it on. A `failed` job may still have active tasks finishing (their output is kept).
 */
export const TERMINAL_JOB_STATUSES = [
  'completed',
  'failed',
  'canceled',
  'archived',
] as const satisfies readonly JobStatus[];

/** True for `completed`, `failed`, `canceled` and `archived`. */
export function isTerminalJobStatus(status: JobStatus): boolean {
  return (TERMINAL_JOB_STATUSES as readonly JobStatus[]).includes(status);
}

/** Statuses whose tasks the scheduler may hand out; every other status keeps its tasks from starting. */
export const SCHEDULABLE_JOB_STATUSES = [
  'queued',
  'active',
] as const satisfies readonly JobStatus[];

/** True when the scheduler may hand out tasks of a job in this status. */
export function isSchedulableJobStatus(status: JobStatus): boolean {
  return (SCHEDULABLE_JOB_STATUSES as readonly JobStatus[]).includes(status);
}
