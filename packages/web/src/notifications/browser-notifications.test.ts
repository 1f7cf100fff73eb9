import type { LiveEvent } from '../api/api-types';
import { finishedJobOf, jobNotificationText } from './browser-notifications';

const job = (status: string) =>
  ({
    id: '6f1c1c2e-0000-4000-8000-000000000001',
    name: 'shot 10',
    type: 'simple-blender-render',
    priority: 50,
    status,
    activity: '',
    project: { id: '6f1c1c2e-0000-4000-8000-000000000002', name: 'default' },
    taskCounts: {},
    progress: 1,
    updated: '2026-11-22T12:00:00Z',
    allowedActions: [],
  }) as unknown as Extract<LiveEvent, { type: 'job-updated' }>['job'];

describe('finishedJobOf', () => {
  it('reports a job that just completed, failed or was canceled', () => {
    for (const status of ['completed', 'failed', 'canceled']) {
      const event = {
        type: 'job-updated',
        job: job(status),
        previousStatus: 'active',
      } as LiveEvent;
      expect(finishedJobOf(event)).toEqual({ id: job(status).id, status });
    }
  });
  it('ignores updates that are not a change into a final status', () => {
    expect(finishedJobOf({ type: 'job-updated', job: job('completed') })).toBeNull();
    expect(
      finishedJobOf({
        type: 'job-updated',
        job: job('active'),
        previousStatus: 'queued',
      }),
    ).toBeNull();
    expect(finishedJobOf({ type: 'job-deleted', jobId: job('failed').id })).toBeNull();
  });
});

describe('jobNotificationText', () => {
  it('names the job and says what happened', () => {
    expect(jobNotificationText({ name: 'shot 10', status: 'completed', activity: '' })).toEqual({
      title: 'Job completed: shot 10',
      body: 'All tasks completed.',
    });
    expect(
      jobNotificationText({ name: 'shot 10', status: 'failed', activity: '3 of 30 tasks failed' })
        .body,
    ).toBe('3 of 30 tasks failed');
  });
});
