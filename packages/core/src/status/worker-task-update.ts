import type { JobStatus } from './job-status';
import type { TaskStatus } from './task-status';

/** A task failed by this many different workers is failed for good (soft-failed before). */
export const DEFAULT_HARD_FAIL_AFTER = 3;

/** What a worker reported about one of its tasks, and what the manager knows about that task. */
export interface WorkerTaskUpdateInput {
  /** The task's status in the database now. */
  current: TaskStatus;
  /** The status the worker reports. */
  reported: TaskStatus;
  /** Whether the task is still assigned to the reporting worker (false once requeued or reassigned). */
  assignedToWorker: boolean;
  /** The job's status; decides what a failure means. Defaults to `active`. */
  jobStatus?: JobStatus;
  /** Distinct workers that have failed this task, counting this report. Defaults to 1. */
  failedByWorkers?: number;
  /** The job's or farm's hard-fail count. Defaults to `DEFAULT_HARD_FAIL_AFTER`. */
  hardFailAfter?: number;
}

/**
 * The manager's answer to a worker's task status report. When accepted, `status` is what to store
 * (a reported `failed` may become `soft-failed`, `canceled` or `paused`) and `recordFailure` says
 * whether the worker goes on the task's failure list (and counts towards the blocklist).
 */
export type WorkerTaskUpdateDecision =
  | { accept: true; status: TaskStatus; recordFailure: boolean; reason: string }
  | { accept: false; reason: string };

/** Job statuses that asked their running tasks to stop. */
const STOPPING_JOB_STATUSES: readonly JobStatus[] = [
  'cancel-requested',
  'pause-requested',
  'canceled',
  'paused',
  'archived',
];

/** `soft-failed` while fewer than `hardFailAfter` workers failed the task, else `failed`. */
export function taskStatusAfterFailure(
  failedByWorkers: number,
  hardFailAfter: number = DEFAULT_HARD_FAIL_AFTER,
): 'soft-failed' | 'failed' {
  return failedByWorkers < hardFailAfter ? 'soft-failed' : 'failed';
}

/**
 * The status of an active task whose run ended without a result: its worker confirmed a stop, was
 * asked by a person to stop (an immediate worker status request), signed off, or timed out.
 */
export function taskStatusWhenStopped(jobStatus: JobStatus): 'queued' | 'paused' | 'canceled' {
  switch (jobStatus) {
    // The job is ending: nothing in it may wait to run again.
    case 'cancel-requested':
    case 'canceled':
    case 'failed':
    case 'archived':
      return 'canceled';
    // Resume reruns it with the job's other parked tasks.
    case 'pause-requested':
    case 'paused':
      return 'paused';
    // The job still runs: another worker takes the task; it is not the task's fault.
    case 'waiting':
    case 'queued':
    case 'active':
    case 'requeueing':
    case 'completed':
      return 'queued';
  }
}

function refuse(reason: string): WorkerTaskUpdateDecision {
  return { accept: false, reason };
}

/**
 * Decides a worker's task status report. A worker may start a runnable task (→ active), repeat
 * `active` (progress), and end an active task (→ completed or failed). It may never move a task
 * out of a status a person or the manager set: canceled, paused, completed, or a task no longer
 * assigned to it (Flamenco let a late `completed` overwrite `canceled`). Workers never send
 * `soft-failed`: the manager turns a failure into soft or hard.
 */
export function decideWorkerTaskUpdate(input: WorkerTaskUpdateInput): WorkerTaskUpdateDecision {
  const { current, reported, assignedToWorker } = input;
  const jobStatus = input.jobStatus ?? 'active';

  switch (reported) {
    case 'soft-failed':
      return refuse('workers report failed; the manager decides whether a failure is soft or hard');
    case 'queued':
    case 'canceled':
    case 'paused':
      return refuse(`a worker cannot set a task to ${reported}; only people and the manager do`);
    case 'active':
    case 'completed':
    case 'failed':
      break;
  }
  if (!assignedToWorker) return refuse('the task is no longer assigned to this worker');

  switch (current) {
    case 'canceled':
    case 'paused':
      return refuse(`the task was ${current}; the worker must stop it`);
    case 'completed':
      return refuse('the task is already completed; its result is kept');
    case 'failed':
      return refuse('the task has already failed');
    case 'queued':
    case 'soft-failed':
      if (reported !== 'active') return refuse(`a ${current} task must be started before it ends`);
      if (jobStatus !== 'queued' && jobStatus !== 'active') {
        return refuse(`the job is ${jobStatus}; its tasks may not start`);
      }
      return { accept: true, status: 'active', recordFailure: false, reason: 'task started' };
    case 'active':
      break;
  }

  switch (reported) {
    case 'active':
      return { accept: true, status: 'active', recordFailure: false, reason: 'task still running' };
    case 'completed':
      // Even when a stop was requested: the work is done, rerunning it would waste it.
      return { accept: true, status: 'completed', recordFailure: false, reason: 'task completed' };
    case 'failed':
      break;
  }

  if (STOPPING_JOB_STATUSES.includes(jobStatus)) {
    // The worker killed the task because we asked; that is not the task's failure.
    const status = taskStatusWhenStopped(jobStatus);
    return { accept: true, status, recordFailure: false, reason: `task stopped: job ${jobStatus}` };
  }
  if (jobStatus === 'failed' || jobStatus === 'completed') {
    // The job no longer runs tasks, so no retry: the failure stands for requeue-failed to pick up.
    return { accept: true, status: 'failed', recordFailure: true, reason: 'task failed' };
  }
  const failedByWorkers = input.failedByWorkers ?? 1;
  const status = taskStatusAfterFailure(failedByWorkers, input.hardFailAfter);
  const reason =
    status === 'failed'
      ? `task failed on ${failedByWorkers} workers: hard failure`
      : `task failed on ${failedByWorkers} worker(s): soft failure, another worker will retry it`;
  return { accept: true, status, recordFailure: true, reason };
}
