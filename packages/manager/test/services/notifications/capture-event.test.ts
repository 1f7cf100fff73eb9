import type { BroadcastEvent } from '@farm/core';
import { captureEvent, retryDelayMs } from '../../../src/services/notifications';

// Which live events become notifications: only changes of status, never repeats.

const task = (status: string) =>
  ({ id: 'a6b0c2f8-0000-4000-8000-000000000003', name: 'frames 1-10', status }) as never;
const worker = (status: string) =>
  ({ id: 'a6b0c2f8-0000-4000-8000-000000000004', name: 'w1', status }) as never;
const job = (status: string) =>
  ({ id: 'a6b0c2f8-0000-4000-8000-000000000005', name: 'j', status, updated: '' }) as never;

describe('captureEvent', () => {
  it('turns a task that just failed into task-failed, and nothing else about tasks', () => {
    const jobId = 'a6b0c2f8-0000-4000-8000-000000000005';
    const failed = captureEvent({
      type: 'task-updated',
      jobId,
      task: task('failed'),
      previousStatus: 'active',
    });
    expect(failed).toMatchObject({
      kind: 'task-failed',
      jobId,
      taskId: 'a6b0c2f8-0000-4000-8000-000000000003',
    });
    expect(captureEvent({ type: 'task-updated', jobId, task: task('failed') })).toBeNull();
    expect(
      captureEvent({
        type: 'task-updated',
        jobId,
        task: task('soft-failed'),
        previousStatus: 'active',
      }),
    ).toBeNull();
  });

  it('tells offline from error for workers, and ignores other worker changes', () => {
    const at = (status: string, previousStatus?: string) =>
      captureEvent({
        type: 'worker-updated',
        worker: worker(status),
        previousStatus,
      } as BroadcastEvent)?.kind ?? null;
    expect(at('offline', 'awake')).toBe('worker-offline');
    expect(at('error', 'awake')).toBe('worker-error');
    expect(at('asleep', 'awake')).toBeNull();
    expect(at('offline')).toBeNull();
  });

  it('names the final job statuses and ignores the rest', () => {
    const at = (status: string, previousStatus?: string) =>
      captureEvent({ type: 'job-updated', job: job(status), previousStatus } as BroadcastEvent)
        ?.kind ?? null;
    expect(at('completed', 'active')).toBe('job-completed');
    expect(at('failed', 'active')).toBe('job-failed');
    expect(at('canceled', 'cancel-requested')).toBe('job-canceled');
    expect(at('paused', 'pause-requested')).toBeNull();
    expect(at('completed')).toBeNull();
  });
});

describe('retryDelayMs', () => {
  it('doubles from the base per attempt and stops at an hour', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(10_000, n))).toEqual([
      10_000, 20_000, 40_000, 80_000,
    ]);
    expect(retryDelayMs(10_000, 30)).toBe(3_600_000);
  });
});
