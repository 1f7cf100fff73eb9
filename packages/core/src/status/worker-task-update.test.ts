import { JOB_STATUSES } from './job-status';
import { TASK_STATUSES, type TaskStatus } from './task-status';
import {
  decideWorkerTaskUpdate,
  taskStatusAfterFailure,
  taskStatusWhenStopped,
} from './worker-task-update';

// What is stored when a worker of a running job reports `reported` (columns) for its own task in
// `current` (rows), on its first failure; `-` means refused.
const TABLE = `
| current     | queued | active | completed | soft-failed | failed      | canceled | paused |
| queued      | -      | active | -         | -           | -           | -        | -      |
| active      | -      | active | completed | -           | soft-failed | -        | -      |
| completed   | -      | -      | -         | -           | -           | -        | -      |
| soft-failed | -      | active | -         | -           | -           | -        | -      |
| failed      | -      | -      | -         | -           | -           | -        | -      |
| canceled    | -      | -      | -         | -           | -           | -        | -      |
| paused      | -      | -      | -         | -           | -           | -        | -      |
`;

function parse(): Map<string, string> {
  const [header, ...rows] = TABLE.trim().split('\n');
  const cellsOf = (line: string) =>
    line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  const columns = cellsOf(header!).slice(1);
  const table = new Map<string, string>();
  for (const row of rows) {
    const [current, ...cells] = cellsOf(row);
    columns.forEach((reported, i) => table.set(`${current} ${reported}`, cells[i]!));
  }
  return table;
}

const expected = parse();

describe('decideWorkerTaskUpdate', () => {
  const pairs = TASK_STATUSES.flatMap((current) =>
    TASK_STATUSES.map(
      (reported) => [current, reported, expected.get(`${current} ${reported}`)] as const,
    ),
  );

  it('has an expectation for every pair', () => {
    expect(pairs.every(([, , e]) => e !== undefined)).toBe(true);
    expect(expected.size).toBe(TASK_STATUSES.length ** 2);
  });

  it.each(pairs)('%s, worker reports %s → %s', (current, reported, outcome) => {
    const decision = decideWorkerTaskUpdate({ current, reported, assignedToWorker: true });
    expect(decision.reason).not.toBe('');
    if (outcome === '-') {
      expect(decision.accept).toBe(false);
    } else {
      expect(decision).toMatchObject({ accept: true, status: outcome });
    }
  });

  it.each(pairs)('%s, a worker no longer assigned reports %s → refused', (current, reported) => {
    const decision = decideWorkerTaskUpdate({ current, reported, assignedToWorker: false });
    expect(decision.accept).toBe(false);
  });

  it('never lets a late report move a task out of a status a person set', () => {
    for (const current of ['canceled', 'paused', 'completed'] as const) {
      for (const reported of TASK_STATUSES) {
        for (const jobStatus of JOB_STATUSES) {
          const d = decideWorkerTaskUpdate({
            current,
            reported,
            assignedToWorker: true,
            jobStatus,
          });
          expect(d.accept).toBe(false);
        }
      }
    }
  });

  it('refuses soft-failed from a worker with a reason saying the manager decides', () => {
    const d = decideWorkerTaskUpdate({
      current: 'active',
      reported: 'soft-failed',
      assignedToWorker: true,
    });
    expect(d).toEqual({ accept: false, reason: expect.stringContaining('manager decides') });
  });

  it('hard-fails on the third distinct worker, and records every real failure', () => {
    const fail = (failedByWorkers: number) =>
      decideWorkerTaskUpdate({
        current: 'active',
        reported: 'failed',
        assignedToWorker: true,
        failedByWorkers,
      });
    expect(fail(1)).toMatchObject({ accept: true, status: 'soft-failed', recordFailure: true });
    expect(fail(2)).toMatchObject({ accept: true, status: 'soft-failed', recordFailure: true });
    expect(fail(3)).toMatchObject({ accept: true, status: 'failed', recordFailure: true });
    expect(
      decideWorkerTaskUpdate({
        current: 'active',
        reported: 'failed',
        assignedToWorker: true,
        failedByWorkers: 1,
        hardFailAfter: 1,
      }),
    ).toMatchObject({ status: 'failed' });
  });

  it('takes a failure in a job asked to stop as the stop, not as a failure', () => {
    const stop = (jobStatus: 'cancel-requested' | 'pause-requested' | 'archived') =>
      decideWorkerTaskUpdate({
        current: 'active',
        reported: 'failed',
        assignedToWorker: true,
        jobStatus,
      });
    expect(stop('cancel-requested')).toMatchObject({
      accept: true,
      status: 'canceled',
      recordFailure: false,
    });
    expect(stop('pause-requested')).toMatchObject({
      accept: true,
      status: 'paused',
      recordFailure: false,
    });
    expect(stop('archived')).toMatchObject({
      accept: true,
      status: 'canceled',
      recordFailure: false,
    });
  });

  it('keeps work that completed although a stop was requested', () => {
    const d = decideWorkerTaskUpdate({
      current: 'active',
      reported: 'completed',
      assignedToWorker: true,
      jobStatus: 'cancel-requested',
    });
    expect(d).toMatchObject({ accept: true, status: 'completed' });
  });

  it('hard-fails at once in a job that already failed, since nothing retries it', () => {
    const d = decideWorkerTaskUpdate({
      current: 'active',
      reported: 'failed',
      assignedToWorker: true,
      jobStatus: 'failed',
    });
    expect(d).toMatchObject({ accept: true, status: 'failed', recordFailure: true });
  });

  it('does not let a task start in a job that is not queued or active', () => {
    for (const jobStatus of JOB_STATUSES) {
      const d = decideWorkerTaskUpdate({
        current: 'queued',
        reported: 'active',
        assignedToWorker: true,
        jobStatus,
      });
      expect(d.accept).toBe(jobStatus === 'queued' || jobStatus === 'active');
    }
  });
});

describe('taskStatusAfterFailure and taskStatusWhenStopped', () => {
  it('soft-fails below the limit', () => {
    expect(taskStatusAfterFailure(2)).toBe('soft-failed');
    expect(taskStatusAfterFailure(3)).toBe('failed');
    expect(taskStatusAfterFailure(4, 5)).toBe('soft-failed');
  });

  it('requeues a stopped task of a running job, parks or cancels it otherwise', () => {
    const table = Object.fromEntries(JOB_STATUSES.map((s) => [s, taskStatusWhenStopped(s)]));
    expect(table).toEqual<Record<string, TaskStatus>>({
      waiting: 'queued',
      queued: 'queued',
      active: 'queued',
      'pause-requested': 'paused',
      paused: 'paused',
      'cancel-requested': 'canceled',
      canceled: 'canceled',
      completed: 'queued',
      failed: 'canceled',
      requeueing: 'queued',
      archived: 'canceled',
    });
  });
});
