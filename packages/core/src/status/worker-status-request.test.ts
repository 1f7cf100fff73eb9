import { WORKER_STATUSES, isWorkerStatus } from './worker-status';
import {
  WORKER_REQUESTED_STATUSES,
  isWorkerRequestedStatus,
  mayClaimTask,
  shouldStopCurrentTask,
  workerStatusForRequest,
} from './worker-status-request';

describe('worker status requests', () => {
  it('stops the running task only for immediate requests, never for wake', () => {
    const outcome = WORKER_REQUESTED_STATUSES.flatMap((status) =>
      [true, false].map(
        (lazy) => `${status}${lazy ? ' lazy' : ''}: ${shouldStopCurrentTask({ status, lazy })}`,
      ),
    );
    expect(outcome).toEqual([
      'awake lazy: false',
      'awake: false',
      'asleep lazy: false',
      'asleep: true',
      'offline lazy: false',
      'offline: true',
      'restart lazy: false',
      'restart: true',
      'testing lazy: false',
      'testing: true',
    ]);
    expect(shouldStopCurrentTask(null)).toBe(false);
  });

  it('gives no new task to a worker with a pending request, lazy or not', () => {
    expect(mayClaimTask('awake', null)).toBe(true);
    expect(mayClaimTask('awake', { status: 'awake', lazy: false })).toBe(true);
    expect(mayClaimTask('awake', { status: 'asleep', lazy: true })).toBe(false);
    expect(mayClaimTask('awake', { status: 'offline', lazy: false })).toBe(false);
    for (const status of WORKER_STATUSES.filter((s) => s !== 'awake')) {
      expect(mayClaimTask(status, null)).toBe(false);
    }
  });

  it('maps each request to the status that fulfils it', () => {
    expect(
      WORKER_REQUESTED_STATUSES.map((status) => workerStatusForRequest({ status, lazy: true })),
    ).toEqual(['awake', 'asleep', 'offline', 'starting', 'testing']);
  });

  it('has guards', () => {
    expect(isWorkerRequestedStatus('restart')).toBe(true);
    expect(isWorkerRequestedStatus('error')).toBe(false);
    expect(isWorkerStatus('error')).toBe(true);
    expect(isWorkerStatus('restart')).toBe(false);
  });
});
