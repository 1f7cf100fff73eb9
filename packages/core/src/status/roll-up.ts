import { FarmError } from '../errors';
import type { JobStatus } from './job-status';
import { totalTasks, type TaskCounts } from './task-counts';
import type { TaskStatus } from './task-status';

/** A job fails once this percentage of its tasks has failed (per job; integer percent). */
export const DEFAULT_FAILURE_THRESHOLD_PERCENT = 10;

/**
 * The tasks a roll-up with `cancelRemaining` cancels (one bulk UPDATE). Active tasks are not
 * among them: in a failed job they finish and their output is kept.
 */
export const CANCEL_REMAINING_FROM = [
  'queued',
  'soft-failed',
  'paused',
] as const satisfies readonly TaskStatus[];

export interface RollUpInput {
  status: JobStatus;
  /** The job's task counts after the task change. */
  counts: Readonly<TaskCounts>;
  /** Defaults to `DEFAULT_FAILURE_THRESHOLD_PERCENT`. */
  failureThresholdPercent?: number;
}

export interface RollUpResult {
  status: JobStatus;
  /** Cancel the job's tasks in `CANCEL_REMAINING_FROM`, in the same transaction as the status. */
  cancelRemaining: boolean;
  /** Why the status changed (for the job's activity line); absent when nothing changed. */
  reason?: string;
}

/** True when at least one task failed and failed/total reached the threshold percentage. */
export function isPastFailureThreshold(
  counts: Readonly<TaskCounts>,
  failureThresholdPercent: number = DEFAULT_FAILURE_THRESHOLD_PERCENT,
): boolean {
  // Integers only: floats would make 3 of 30 at 10 % depend on rounding.
  return counts.failed > 0 && counts.failed * 100 >= failureThresholdPercent * totalTasks(counts);
}

const MAX_STEPS = 8;

interface Step {
  status: JobStatus;
  cancelRemaining?: boolean;
  reason: string;
}

/**
 * One rule application; `null` when the job stays as it is. Every job status is a case, so each
 * one's reaction to a (possibly late) task change is written down here.
 */
function step(
  status: JobStatus,
  counts: Readonly<TaskCounts>,
  thresholdPercent: number,
): Step | null {
  const total = totalTasks(counts);
  const runnable = counts.queued + counts['soft-failed'];
  const allCompleted = counts.completed === total;
  const leftovers = runnable + counts.paused > 0;

  switch (status) {
    case 'waiting':
      // Its tasks cannot run yet; only the manager's dependency check releases it (to queued).
      return null;
    case 'queued':
    case 'active': {
      if (allCompleted) return { status: 'completed', reason: 'all tasks completed' };
      if (isPastFailureThreshold(counts, thresholdPercent)) {
        return {
          status: 'failed',
          cancelRemaining: leftovers,
          reason: `${counts.failed} of ${total} tasks failed (threshold ${thresholdPercent} %)`,
        };
      }
      if (runnable + counts.active === 0) {
        // Nothing can run any more; stray paused tasks are not runnable in a running job either.
        return counts.failed > 0
          ? {
              status: 'failed',
              cancelRemaining: leftovers,
              reason: 'no task left to run; some failed',
            }
          : { status: 'canceled', cancelRemaining: leftovers, reason: 'no task left to run' };
      }
      // The first running task makes a queued job active; an active job stays active between tasks.
      if (status === 'queued' && counts.active > 0) {
        return { status: 'active', reason: 'a task started' };
      }
      return null;
    }
    case 'requeueing':
      // The bulk requeue has been applied; the next step applies the running-job rules.
      return counts.active > 0
        ? { status: 'active', reason: 'requeued; tasks still running' }
        : { status: 'queued', reason: 'requeued' };
    case 'pause-requested':
      // The last tasks may finish instead of stopping: a job whose work is all done is completed.
      if (allCompleted) return { status: 'completed', reason: 'all tasks completed' };
      if (counts.active > 0) return null;
      return { status: 'paused', reason: 'every running task stopped' };
    case 'cancel-requested':
      if (allCompleted) return { status: 'completed', reason: 'all tasks completed' };
      if (counts.active > 0) return null;
      // Leftovers exist only if a task was requeued after the cancel; they must not run.
      return {
        status: 'canceled',
        cancelRemaining: leftovers,
        reason: 'every running task stopped',
      };
    case 'paused':
      // Paused tasks cannot start, so this means a task was started against the rules: wait for it.
      if (counts.active > 0)
        return { status: 'pause-requested', reason: 'a task is still running' };
      return null;
    case 'completed':
      // A task of a completed job was requeued by hand: only that task runs again.
      if (!allCompleted) return { status: 'queued', reason: 'a task was requeued' };
      return null;
    case 'failed':
      // A task requeued by hand reopens the job (it would never run otherwise). If the remaining
      // failures are still past the threshold, the next step fails the job again at once.
      if (runnable > 0) return { status: 'queued', reason: 'a task was requeued' };
      // Active tasks finish; their results are kept. A late failure or completion changes nothing.
      return null;
    case 'canceled':
      if (counts.active > 0)
        return { status: 'cancel-requested', reason: 'a task is still running' };
      if (runnable > 0) return { status: 'queued', reason: 'a task was requeued' };
      return null;
    case 'archived':
      // Read-only until deleted; a late task event never revives it.
      return null;
  }
}

/** `counts` with the leftovers canceled, as the manager's bulk update leaves them. */
function afterCancelRemaining(counts: Readonly<TaskCounts>): TaskCounts {
  const next = { ...counts };
  for (const status of CANCEL_REMAINING_FROM) {
    next.canceled += next[status];
    next[status] = 0;
  }
  return next;
}

/**
 * The job status its task counts call for (DESIGN.md "Status machines"), applied until nothing
 * changes, so rolling up the result again changes nothing. When `cancelRemaining` is set the
 * manager cancels the tasks in `CANCEL_REMAINING_FROM` in the same transaction.
 *
 * - queued/active: all completed → completed; failures past the threshold → failed (cancel the
 *   rest); nothing runnable or running → failed if any task failed, else canceled; a running task
 *   makes a queued job active.
 * - requeueing → queued (active when a task still runs), then the rules above.
 * - pause-requested / cancel-requested: → paused / canceled once no task is active (completed if
 *   every task completed meanwhile).
 * - completed, failed, canceled: reopened (→ queued) only by a task requeued by hand.
 * - paused and waiting: stay (a waiting job is released by the manager once the jobs it depends on
 *   completed); archived: never moves.
 */
export function rollUpJobStatus(input: RollUpInput): RollUpResult {
  const thresholdPercent = input.failureThresholdPercent ?? DEFAULT_FAILURE_THRESHOLD_PERCENT;
  let status = input.status;
  let counts: Readonly<TaskCounts> = input.counts;
  let cancelRemaining = false;
  const reasons: string[] = [];
  // Every chain of rules ends in a state no rule leaves within a few steps (at most
  // failed → queued → active → failed); the bound turns a future cycle into a loud error.
  for (let steps = 0; ; steps += 1) {
    const next = step(status, counts, thresholdPercent);
    if (next === null) break;
    if (steps === MAX_STEPS) {
      throw new FarmError('internal', `job status roll-up does not settle (at ${status})`);
    }
    if (next.cancelRemaining === true) {
      cancelRemaining = true;
      counts = afterCancelRemaining(counts);
    }
    reasons.push(next.reason);
    status = next.status;
  }
  if (status === input.status && !cancelRemaining) return { status, cancelRemaining };
  return { status, cancelRemaining, reason: reasons.join('; ') };
}
