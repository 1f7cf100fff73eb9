import { FarmError } from '../errors';
import type { JobStatus } from './job-status';
import type { TaskStatus } from './task-status';

/** What a person may do to one task. */
export const TASK_ACTIONS = ['requeue', 'cancel'] as const;

export type TaskAction = (typeof TASK_ACTIONS)[number];

/** True when `value` is one of `TASK_ACTIONS`. */
export function isTaskAction(value: unknown): value is TaskAction {
  return typeof value === 'string' && (TASK_ACTIONS as readonly string[]).includes(value);
}

/** The actions each task status allows (DESIGN.md "Status machines"). */
export const TASK_ACTION_TABLE: Readonly<Record<TaskStatus, readonly TaskAction[]>> = {
  queued: ['cancel'],
  active: ['cancel'],
  completed: ['requeue'],
  'soft-failed': ['requeue', 'cancel'],
  failed: ['requeue'],
  canceled: ['requeue'],
  // Only the job's resume (or cancel) moves a paused task, so the job and its tasks stay in step.
  paused: [],
};

/**
 * Job statuses in which single-task actions are allowed. Not in a passing state (`*-requested`,
 * `requeueing`: the job-wide change is under way) nor `archived` (read-only until deleted).
 */
export const JOB_STATUSES_ALLOWING_TASK_ACTIONS = [
  'queued',
  'active',
  'paused',
  'completed',
  'failed',
  'canceled',
] as const satisfies readonly JobStatus[];

/** The actions a task in `status` allows; none when its job (if given) is in a passing or archived state. */
export function allowedTaskActions(
  status: TaskStatus,
  jobStatus?: JobStatus,
): readonly TaskAction[] {
  if (
    jobStatus !== undefined &&
    !(JOB_STATUSES_ALLOWING_TASK_ACTIONS as readonly JobStatus[]).includes(jobStatus)
  ) {
    return [];
  }
  return TASK_ACTION_TABLE[status];
}

/** Throws `invalid_transition` (with `details: { status, action, allowedActions, jobStatus? }`) unless allowed. */
export function assertTaskAction(
  status: TaskStatus,
  action: TaskAction,
  jobStatus?: JobStatus,
): void {
  const allowedActions = allowedTaskActions(status, jobStatus);
  if (allowedActions.includes(action)) return;
  const allowed = allowedActions.length > 0 ? allowedActions.join(', ') : 'none';
  const where = jobStatus === undefined ? '' : ` in a job that is ${jobStatus}`;
  throw new FarmError(
    'invalid_transition',
    `cannot ${action} a task that is ${status}${where} (allowed actions: ${allowed})`,
    {
      details:
        jobStatus === undefined
          ? { status, action, allowedActions: [...allowedActions] }
          : { status, action, allowedActions: [...allowedActions], jobStatus },
    },
  );
}

/**
 * The status a task takes when `action` is applied (throws like `assertTaskAction` when refused).
 * Only this task changes; the manager then recounts and calls `rollUpJobStatus`, which reopens a
 * completed, failed or canceled job (Flamenco requeued every task of a completed job instead).
 *
 * - requeue: `queued`, clearing the task's failure history and worker; `paused` in a paused job,
 *   so it waits for resume with the others.
 * - cancel: `canceled`; an active task's worker is told to stop at once, and its late report is
 *   refused because the task is no longer active.
 */
export function taskActionTarget(
  status: TaskStatus,
  action: TaskAction,
  jobStatus?: JobStatus,
): TaskStatus {
  assertTaskAction(status, action, jobStatus);
  switch (action) {
    case 'requeue':
      return jobStatus === 'paused' ? 'paused' : 'queued';
    case 'cancel':
      return 'canceled';
  }
}
