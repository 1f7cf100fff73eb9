import {
  isJobStatus,
  isSchedulableJobStatus,
  isTerminalJobStatus,
  JOB_STATUSES,
} from './job-status';
import { isRunnableTaskStatus, isTaskStatus, TASK_STATUSES } from './task-status';

describe('status lists', () => {
  it('lists the statuses of DESIGN.md', () => {
    expect(JOB_STATUSES).toEqual([
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
    ]);
    expect(TASK_STATUSES).toEqual([
      'queued',
      'active',
      'completed',
      'soft-failed',
      'failed',
      'canceled',
      'paused',
    ]);
  });

  it('classifies statuses', () => {
    expect(JOB_STATUSES.filter(isTerminalJobStatus)).toEqual([
      'canceled',
      'completed',
      'failed',
      'archived',
    ]);
    expect(JOB_STATUSES.filter(isSchedulableJobStatus)).toEqual(['queued', 'active']);
    expect(TASK_STATUSES.filter(isRunnableTaskStatus)).toEqual(['queued', 'soft-failed']);
  });

  it('guards against unknown strings', () => {
    expect(isJobStatus('paused')).toBe(true);
    expect(isJobStatus('under-construction')).toBe(false);
    expect(isJobStatus(3)).toBe(false);
    expect(isTaskStatus('soft-failed')).toBe(true);
    expect(isTaskStatus('requeueing')).toBe(false);
  });
});
