import { FarmError } from '../errors';
import type { JobStatus } from './job-status';
import type { TaskCounts } from './task-counts';
import type { TaskStatus } from './task-status';

/** What a person may do to a job. `requeue` requeues every task, `requeue-failed` keeps completed ones. */
export const JOB_ACTIONS = [
  'cancel',
  'pause',
  'resume',
  'requeue',
  'requeue-failed',
  'archive',
  'delete',
  'set-priority',
] as const;

export type JobAction = (typeof JOB_ACTIONS)[number];

/** True when `value` is one of `JOB_ACTIONS`. */
export function isJobAction(value: unknown): value is JobAction {
  return typeof value === 'string' && (JOB_ACTIONS as readonly string[]).includes(value);
}

/**
 * The actions each job status allows: the table in DESIGN.md "Status machines", as data. Anything
 * not listed is refused with `invalid_transition` (HTTP 409) naming the allowed actions.
 */
export const JOB_ACTION_TABLE: Readonly<Record<JobStatus, readonly JobAction[]>> = {
  // Pause and resume would let a person start it before its dependencies completed.
  waiting: ['cancel', 'delete', 'set-priority'],
  queued: ['cancel', 'pause', 'delete', 'set-priority'],
  active: ['cancel', 'pause', 'requeue-failed', 'set-priority'],
  paused: ['cancel', 'resume', 'requeue', 'archive', 'delete', 'set-priority'],
  completed: ['requeue', 'archive', 'delete'],
  failed: ['cancel', 'requeue', 'requeue-failed', 'archive', 'delete'],
  canceled: ['requeue', 'archive', 'delete'],
  // Passing states: the job is already on its way somewhere; a second decision must wait for it.
  'pause-requested': [],
  'cancel-requested': [],
  requeueing: [],
  archived: ['delete'],
};

/** The actions a job in `status` allows, in `JOB_ACTIONS` order. */
export function allowedJobActions(status: JobStatus): readonly JobAction[] {
  return JOB_ACTION_TABLE[status];
}

/** Throws `invalid_transition` (with `details: { status, action, allowedActions }`) unless allowed. */
export function assertJobAction(status: JobStatus, action: JobAction): void {
  const allowedActions = allowedJobActions(status);
  if (allowedActions.includes(action)) return;
  const allowed = allowedActions.length > 0 ? allowedActions.join(', ') : 'none';
  throw new FarmError(
    'invalid_transition',
    `cannot ${action} a job that is ${status} (allowed actions: ${allowed})`,
    { details: { status, action, allowedActions: [...allowedActions] } },
  );
}

/** The job status an action leads to, or `deleted` when the job row is removed. */
export type JobActionTarget = JobStatus | 'deleted';

/**
 * The job status to write when `action` is taken on a job in `status` (throws like
 * `assertJobAction` when the action is not allowed). `taskCounts` are the counts before the action.
 *
 * The manager then, in the same transaction: applies `JOB_ACTION_TASK_EFFECTS[action]`, recounts,
 * and calls `rollUpJobStatus` (which moves `requeueing` on to `queued`/`active`, and a stop request
 * on to `canceled`/`paused` once no task is active).
 */
export function jobActionTarget(
  status: JobStatus,
  action: JobAction,
  taskCounts: Readonly<TaskCounts>,
): JobActionTarget {
  assertJobAction(status, action);
  const anyActive = taskCounts.active > 0;
  switch (action) {
    // Running tasks are stopped first, so the job says "cancel-requested" until the workers did.
    case 'cancel':
      return anyActive ? 'cancel-requested' : 'canceled';
    case 'pause':
      return anyActive ? 'pause-requested' : 'paused';
    // A job with a running task is active; with none it waits for a worker.
    case 'resume':
      return anyActive ? 'active' : 'queued';
    // The roll-up ends requeueing (queued, or active when a task still runs).
    case 'requeue':
    case 'requeue-failed':
      return 'requeueing';
    case 'archive':
      return 'archived';
    case 'delete':
      return 'deleted';
    case 'set-priority':
      return status;
  }
}

/**
 * What a job action does to the job's tasks, shaped so the manager can run it as one guarded
 * statement: `UPDATE tasks SET status = $to ... WHERE job_id = $job AND status = ANY($from)`.
 */
export interface JobActionTaskEffect {
  /** Tasks in `from` move to `to`; `null` when the action leaves task statuses alone. */
  readonly move: { readonly from: readonly TaskStatus[]; readonly to: TaskStatus } | null;
  /** Forget which workers failed the moved tasks, so they get a full set of retries again. */
  readonly clearTaskFailures: boolean;
  /** Forget the job's worker blocklist. */
  readonly clearJobBlocklist: boolean;
  /**
   * Tell the workers running the job's active tasks to stop at once. Those tasks stay `active`
   * until the worker reports back; see `decideWorkerTaskUpdate` and `taskStatusWhenStopped`.
   */
  readonly stopActiveTasks: boolean;
}

/** The bulk task effect of each job action. Active tasks are never moved in bulk (see `stopActiveTasks`). */
export const JOB_ACTION_TASK_EFFECTS: Readonly<Record<JobAction, JobActionTaskEffect>> = {
  // Nothing waiting may start any more; running tasks stop and end canceled when the worker confirms.
  cancel: {
    move: { from: ['queued', 'soft-failed', 'paused'], to: 'canceled' },
    clearTaskFailures: false,
    clearJobBlocklist: false,
    stopActiveTasks: true,
  },
  // Waiting tasks are parked (the failure history of soft-failed ones survives on the task); running
  // tasks stop and end paused, so resume reruns them.
  pause: {
    move: { from: ['queued', 'soft-failed'], to: 'paused' },
    clearTaskFailures: false,
    clearJobBlocklist: false,
    stopActiveTasks: true,
  },
  // Parked tasks become claimable again; their failure history still keeps bad workers away.
  resume: {
    move: { from: ['paused'], to: 'queued' },
    clearTaskFailures: false,
    clearJobBlocklist: false,
    stopActiveTasks: false,
  },
  // Start over: everything not running is queued with a clean history (the person presumably fixed
  // the cause); a task still running is left to finish, its result is as good as a rerun's.
  requeue: {
    move: { from: ['completed', 'soft-failed', 'failed', 'canceled', 'paused'], to: 'queued' },
    clearTaskFailures: true,
    clearJobBlocklist: true,
    stopActiveTasks: false,
  },
  // Rerun what did not succeed, keep completed output. Canceled tasks are included because a failed
  // job cancels its unfinished tasks; paused ones because they would never run in a running job.
  'requeue-failed': {
    move: { from: ['soft-failed', 'failed', 'canceled', 'paused'], to: 'queued' },
    clearTaskFailures: true,
    clearJobBlocklist: true,
    stopActiveTasks: false,
  },
  // An archived job never runs again (only delete is left), so nothing in it may look like waiting.
  archive: {
    move: { from: ['queued', 'soft-failed', 'paused'], to: 'canceled' },
    clearTaskFailures: false,
    clearJobBlocklist: false,
    stopActiveTasks: true,
  },
  // The rows go away; a worker still running one (a failed job's last tasks) must not keep burning time.
  delete: { move: null, clearTaskFailures: false, clearJobBlocklist: false, stopActiveTasks: true },
  // Priority only changes the scheduler's order.
  'set-priority': {
    move: null,
    clearTaskFailures: false,
    clearJobBlocklist: false,
    stopActiveTasks: false,
  },
};
