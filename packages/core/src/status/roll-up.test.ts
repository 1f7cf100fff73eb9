import { JOB_STATUSES, type JobStatus } from './job-status';
import { CANCEL_REMAINING_FROM, isPastFailureThreshold, rollUpJobStatus } from './roll-up';
import { countTaskStatuses, emptyTaskCounts, totalTasks } from './task-counts';
import type { TaskStatus } from './task-status';

function rollUp(status: JobStatus, tasks: TaskStatus[], failureThresholdPercent?: number) {
  return rollUpJobStatus({ status, counts: countTaskStatuses(tasks), failureThresholdPercent });
}

const repeat = (status: TaskStatus, n: number): TaskStatus[] => Array<TaskStatus>(n).fill(status);

describe('rollUpJobStatus', () => {
  it('makes a queued job active on its first running task, and keeps it active between tasks', () => {
    expect(rollUp('queued', ['active', 'queued'])).toMatchObject({
      status: 'active',
      cancelRemaining: false,
    });
    expect(rollUp('queued', ['queued', 'queued'])).toEqual({
      status: 'queued',
      cancelRemaining: false,
    });
    expect(rollUp('active', ['completed', 'queued'])).toEqual({
      status: 'active',
      cancelRemaining: false,
    });
  });

  it('completes a job when every task completed', () => {
    expect(rollUp('active', ['completed', 'completed'])).toMatchObject({ status: 'completed' });
    expect(rollUp('active', ['completed', 'canceled'])).toMatchObject({ status: 'canceled' });
  });

  it('fails at the threshold, comparing integers, and cancels what still waits', () => {
    const belowThreshold = [...repeat('failed', 2), ...repeat('queued', 28)];
    expect(rollUp('active', belowThreshold)).toEqual({ status: 'active', cancelRemaining: false });
    const atThreshold = [...repeat('failed', 3), ...repeat('queued', 26), 'active' as const];
    expect(rollUp('active', atThreshold)).toMatchObject({
      status: 'failed',
      cancelRemaining: true,
      reason: expect.stringContaining('3 of 30 tasks failed'),
    });
    expect(rollUp('active', ['failed', ...repeat('queued', 99)], 1)).toMatchObject({
      status: 'failed',
    });
    expect(rollUp('active', ['failed', ...repeat('queued', 99)], 2)).toMatchObject({
      status: 'active',
    });
    expect(isPastFailureThreshold(emptyTaskCounts(), 0)).toBe(false);
  });

  it('ends a job with nothing left to run: failed if a task failed, else canceled', () => {
    expect(rollUp('active', ['failed', ...repeat('completed', 20)])).toMatchObject({
      status: 'failed',
    });
    expect(rollUp('active', ['canceled', 'completed'])).toMatchObject({ status: 'canceled' });
    // A soft-failed task is still runnable: no verdict yet.
    expect(rollUp('active', ['soft-failed', ...repeat('completed', 20)])).toMatchObject({
      status: 'active',
    });
  });

  it('finishes a cancel or pause only once no task runs', () => {
    expect(rollUp('cancel-requested', ['active', 'canceled'])).toMatchObject({
      status: 'cancel-requested',
    });
    expect(rollUp('cancel-requested', ['canceled', 'completed'])).toMatchObject({
      status: 'canceled',
    });
    expect(rollUp('pause-requested', ['active', 'paused'])).toMatchObject({
      status: 'pause-requested',
    });
    expect(rollUp('pause-requested', ['paused', 'completed'])).toMatchObject({ status: 'paused' });
    expect(rollUp('pause-requested', ['completed', 'completed'])).toMatchObject({
      status: 'completed',
    });
  });

  it('keeps a waiting job waiting whatever its tasks say (only its dependencies release it)', () => {
    expect(rollUp('waiting', ['queued', 'queued'])).toEqual({
      status: 'waiting',
      cancelRemaining: false,
    });
    expect(rollUp('waiting', [])).toEqual({ status: 'waiting', cancelRemaining: false });
  });

  it('ends requeueing in queued, or active while a task still runs', () => {
    expect(rollUp('requeueing', ['queued', 'completed'])).toMatchObject({ status: 'queued' });
    expect(rollUp('requeueing', ['queued', 'active'])).toMatchObject({ status: 'active' });
  });

  it('reopens a completed job for one requeued task, leaving the others completed', () => {
    expect(rollUp('completed', ['queued', 'completed', 'completed'])).toMatchObject({
      status: 'queued',
      cancelRemaining: false,
    });
  });

  it('reopens a failed or canceled job for a requeued task, unless its failures still fail it', () => {
    expect(rollUp('failed', ['queued', 'canceled', ...repeat('completed', 20)])).toMatchObject({
      status: 'queued',
    });
    expect(rollUp('canceled', ['queued', 'canceled'])).toMatchObject({ status: 'queued' });
    // 2 of 3 still failed: the job fails again and the requeued task is canceled.
    expect(rollUp('failed', ['queued', 'failed', 'failed'])).toMatchObject({
      status: 'failed',
      cancelRemaining: true,
    });
  });

  it('leaves finished jobs alone when late events change nothing that matters', () => {
    expect(rollUp('failed', ['active', 'failed'])).toEqual({
      status: 'failed',
      cancelRemaining: false,
    });
    expect(rollUp('failed', ['completed', 'failed'])).toEqual({
      status: 'failed',
      cancelRemaining: false,
    });
    expect(rollUp('paused', ['paused', 'completed'])).toEqual({
      status: 'paused',
      cancelRemaining: false,
    });
    expect(rollUp('archived', ['queued', 'active'])).toEqual({
      status: 'archived',
      cancelRemaining: false,
    });
    expect(rollUp('completed', ['completed'])).toEqual({
      status: 'completed',
      cancelRemaining: false,
    });
  });

  it('never shows an active task under a queued, paused or canceled job', () => {
    expect(rollUp('paused', ['active', 'paused']).status).toBe('pause-requested');
    expect(rollUp('canceled', ['active', 'canceled']).status).toBe('cancel-requested');
  });

  it('is idempotent for every status and a spread of counts', () => {
    const samples: TaskStatus[][] = [
      [],
      ['queued'],
      ['active'],
      ['completed'],
      ['failed'],
      ['canceled'],
      ['paused'],
      ['soft-failed', 'completed'],
      ['failed', 'queued', 'active'],
      ['failed', ...repeat('queued', 20)],
      ['paused', 'failed'],
    ];
    for (const status of JOB_STATUSES) {
      for (const tasks of samples) {
        const first = rollUp(status, tasks);
        const counts = countTaskStatuses(tasks);
        if (first.cancelRemaining) {
          for (const s of CANCEL_REMAINING_FROM) {
            counts.canceled += counts[s];
            counts[s] = 0;
          }
        }
        const second = rollUpJobStatus({ status: first.status, counts });
        expect({ status, tasks, second }).toEqual({
          status,
          tasks,
          second: { status: first.status, cancelRemaining: false },
        });
        expect(totalTasks(counts)).toBe(tasks.length);
      }
    }
  });
});
