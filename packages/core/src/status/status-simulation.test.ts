/**
 * An executable spec for the manager: a tiny in-memory job driven only through the status
 * functions, the way the manager drives its database (guarded updates, then a roll-up in the same
 * transaction), checked against the invariants a user relies on.
 */
import fc from 'fast-check';
import { isFarmError } from '../errors';
import {
  JOB_ACTION_TASK_EFFECTS,
  allowedJobActions,
  jobActionTarget,
  type JobAction,
} from './job-actions';
import { isSchedulableJobStatus, type JobStatus } from './job-status';
import { CANCEL_REMAINING_FROM, rollUpJobStatus } from './roll-up';
import { allowedTaskActions, taskActionTarget, type TaskAction } from './task-actions';
import { countTaskStatuses, totalTasks, type TaskCounts } from './task-counts';
import { isRunnableTaskStatus, type TaskStatus } from './task-status';
import { decideWorkerTaskUpdate, taskStatusWhenStopped } from './worker-task-update';

interface SimTask {
  status: TaskStatus;
  /** The worker the task is assigned to; null once requeued (its old worker is then stale). */
  worker: number | null;
  failedBy: Set<number>;
}

type SimEvent =
  | { kind: 'claim'; task: number }
  | { kind: 'complete'; task: number }
  | { kind: 'fail'; task: number }
  | { kind: 'worker-lost'; task: number }
  | { kind: 'task-action'; task: number; action: TaskAction }
  | { kind: 'job-action'; action: Exclude<JobAction, 'delete'> };

/** True when `run` throws the 409 error of a refused transition. */
function refused(run: () => unknown): boolean {
  try {
    run();
  } catch (error) {
    return isFarmError(error) && error.code === 'invalid_transition';
  }
  return false;
}

class SimJob {
  status: JobStatus = 'queued';
  readonly tasks: SimTask[];
  private nextWorker = 1;

  constructor(
    taskCount: number,
    readonly failureThresholdPercent: number | undefined,
    readonly hardFailAfter: number | undefined = undefined,
  ) {
    this.tasks = Array.from({ length: taskCount }, (): SimTask => ({
      status: 'queued',
      worker: null,
      failedBy: new Set<number>(),
    }));
  }

  counts(): TaskCounts {
    return countTaskStatuses(this.tasks.map((t) => t.status));
  }

  apply(event: SimEvent): void {
    switch (event.kind) {
      case 'claim':
        return this.claim(this.task(event.task));
      case 'complete':
        return this.report(this.task(event.task), 'completed');
      case 'fail':
        return this.report(this.task(event.task), 'failed');
      case 'worker-lost': {
        const task = this.task(event.task);
        if (task.status !== 'active') return;
        task.status = taskStatusWhenStopped(this.status);
        task.worker = null;
        return this.rollUp();
      }
      case 'task-action':
        return this.taskAction(this.task(event.task), event.action);
      case 'job-action':
        return this.jobAction(event.action);
    }
  }

  private task(index: number): SimTask {
    return this.tasks[index % this.tasks.length]!;
  }

  /** The scheduler hands out runnable tasks of schedulable jobs, to a worker that never failed it. */
  claim(task: SimTask): void {
    if (!isSchedulableJobStatus(this.status) || !isRunnableTaskStatus(task.status)) return;
    const worker = this.nextWorker++;
    const decision = decideWorkerTaskUpdate({
      current: task.status,
      reported: 'active',
      assignedToWorker: true,
      jobStatus: this.status,
    });
    ensure(decision.accept && decision.status === 'active', 'a claimed task starts');
    task.status = 'active';
    task.worker = worker;
    this.rollUp();
  }

  report(task: SimTask, reported: 'completed' | 'failed'): void {
    const before = task.status;
    const worker = task.worker ?? 0; // 0: a stale worker whose task was requeued
    const decision = decideWorkerTaskUpdate({
      current: task.status,
      reported,
      assignedToWorker: task.worker !== null,
      jobStatus: this.status,
      failedByWorkers: task.failedBy.size + (task.failedBy.has(worker) ? 0 : 1),
      hardFailAfter: this.hardFailAfter,
    });
    if (!decision.accept) return;
    // A late report never moves a task out of a status a person or the manager set.
    ensure(before === 'active', `a worker moved a task out of ${before}`);
    ensure(task.worker !== null, 'a stale worker changed a task');
    if (decision.recordFailure) task.failedBy.add(worker);
    task.status = decision.status;
    this.rollUp();
  }

  taskAction(task: SimTask, action: TaskAction): void {
    if (!allowedTaskActions(task.status, this.status).includes(action)) {
      ensure(
        refused(() => taskActionTarget(task.status, action, this.status)),
        'refused',
      );
      return;
    }
    const wasCompletedJob = this.status === 'completed';
    const others = this.tasks.filter((t) => t !== task).map((t) => t.status);
    task.status = taskActionTarget(task.status, action, this.status);
    if (action === 'requeue') {
      task.worker = null;
      task.failedBy.clear();
    }
    this.rollUp();
    if (wasCompletedJob) {
      // Requeueing one task of a completed job requeues that task only.
      const now = this.tasks.filter((t) => t !== task).map((t) => t.status);
      ensure(
        now.every((status, i) => status === others[i]),
        'only the requeued task changed',
      );
      ensure(this.status === 'queued', 'the completed job is queued again');
    }
  }

  jobAction(action: Exclude<JobAction, 'delete'>): void {
    if (!allowedJobActions(this.status).includes(action)) {
      ensure(
        refused(() => jobActionTarget(this.status, action, this.counts())),
        'refused',
      );
      return;
    }
    const target = jobActionTarget(this.status, action, this.counts());
    if (target === 'deleted') throw new Error('delete is not simulated');
    const effect = JOB_ACTION_TASK_EFFECTS[action];
    const move = effect.move;
    if (move !== null) {
      for (const task of this.tasks) {
        if (!move.from.includes(task.status)) continue;
        task.status = move.to;
        if (effect.clearTaskFailures) task.failedBy.clear();
        if (move.to === 'queued') task.worker = null;
      }
    }
    this.status = target;
    this.rollUp();
  }

  rollUp(): void {
    const result = rollUpJobStatus({
      status: this.status,
      counts: this.counts(),
      failureThresholdPercent: this.failureThresholdPercent,
    });
    if (result.cancelRemaining) {
      for (const task of this.tasks) {
        if ((CANCEL_REMAINING_FROM as readonly TaskStatus[]).includes(task.status))
          task.status = 'canceled';
      }
    }
    this.status = result.status;
  }

  /** Every worker finishes its task, then workers run whatever the scheduler still hands out. */
  drain(): void {
    for (let round = 0; round < 4 * this.tasks.length + 4; round += 1) {
      const active = this.tasks.find((t) => t.status === 'active');
      if (active !== undefined) {
        this.report(active, 'completed');
        continue;
      }
      const runnable = this.tasks.find((t) => isRunnableTaskStatus(t.status));
      if (runnable === undefined || !isSchedulableJobStatus(this.status)) return;
      this.claim(runnable);
    }
    throw new Error('drain did not settle');
  }
}

/** The rules broken by the job's current state (plain checks: `expect` per event is too slow). */
function invariantViolations(job: SimJob): string[] {
  const counts = job.counts();
  const n = job.tasks.length;
  const waiting = counts.queued + counts['soft-failed'];
  const broken: string[] = [];
  const rule = (holds: boolean, text: string) => {
    if (!holds) broken.push(`${text} (job ${job.status}, tasks ${JSON.stringify(counts)})`);
  };
  rule(totalTasks(counts) === n, 'counts sum to the task total');
  if (job.status !== 'archived') {
    rule(
      (job.status === 'completed') === (counts.completed === n),
      'completed iff all tasks completed',
    );
  }
  if (job.status === 'canceled') {
    rule(waiting + counts.paused + counts.active === 0, 'a canceled job has nothing left to run');
  }
  // A failed job lets its running tasks finish; nothing else may run.
  if (job.status === 'failed' || job.status === 'archived') {
    rule(waiting + counts.paused === 0, `a ${job.status} job has nothing waiting`);
  }
  if (counts.active > 0) {
    rule(
      !['queued', 'paused', 'canceled'].includes(job.status),
      'a running task means a running job',
    );
  }
  if (job.status === 'paused') rule(waiting === 0, 'a paused job has parked all waiting tasks');
  if (isSchedulableJobStatus(job.status))
    rule(counts.paused === 0, 'a running job has no parked task');
  rule(job.status !== 'requeueing', 'requeueing never outlives its transaction');
  const again = rollUpJobStatus({
    status: job.status,
    counts,
    failureThresholdPercent: job.failureThresholdPercent,
  });
  rule(again.status === job.status && !again.cancelRemaining, 'the roll-up is idempotent');
  return broken;
}

function checkInvariants(job: SimJob): void {
  const broken = invariantViolations(job);
  if (broken.length > 0) expect(broken).toEqual([]);
}

/** A cheap `expect(...).toBe(true)` for the simulator's hot path. */
function ensure(holds: boolean, text: string): void {
  if (!holds) throw new Error(text);
}

// Mostly the first few tasks, so that one task fails often enough to fail for good.
const taskIndex = fc.oneof(fc.nat({ max: 2 }), fc.nat({ max: 63 }));
const eventArb: fc.Arbitrary<SimEvent> = fc.oneof(
  { weight: 6, arbitrary: taskIndex.map((task) => ({ kind: 'claim' as const, task })) },
  { weight: 5, arbitrary: taskIndex.map((task) => ({ kind: 'complete' as const, task })) },
  { weight: 3, arbitrary: taskIndex.map((task) => ({ kind: 'fail' as const, task })) },
  { weight: 1, arbitrary: taskIndex.map((task) => ({ kind: 'worker-lost' as const, task })) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('task-action' as const),
      task: taskIndex,
      action: fc.constantFrom<TaskAction>('requeue', 'cancel'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('job-action' as const),
      action: fc.constantFrom<Exclude<JobAction, 'delete'>>(
        'cancel',
        'pause',
        'resume',
        'requeue',
        'requeue-failed',
        'archive',
        'set-priority',
      ),
    }),
  },
);

const scenarioArb = fc.record({
  taskCount: fc.integer({ min: 1, max: 30 }),
  threshold: fc.option(fc.constantFrom(0, 5, 10, 34, 50, 100), { nil: undefined }),
  hardFailAfter: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  // size 'max': fast-check otherwise keeps arrays to about ten events.
  events: fc.array(eventArb, { maxLength: 150, size: 'max' }),
});

describe('job and task status machines, simulated', () => {
  it('keep their invariants after every event', () => {
    fc.assert(
      fc.property(scenarioArb, ({ taskCount, threshold, hardFailAfter, events }) => {
        const job = new SimJob(taskCount, threshold, hardFailAfter);
        checkInvariants(job);
        for (const event of events) {
          job.apply(event);
          checkInvariants(job);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('always settle once the workers finish: nothing is left stuck in a passing state', () => {
    fc.assert(
      fc.property(scenarioArb, ({ taskCount, threshold, hardFailAfter, events }) => {
        const job = new SimJob(taskCount, threshold, hardFailAfter);
        for (const event of events) job.apply(event);
        job.drain();
        checkInvariants(job);
        expect(['completed', 'failed', 'canceled', 'paused', 'archived']).toContain(job.status);
        expect(job.counts().active).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('runs a plain job to completed, and a job with too many failures to failed', () => {
    const job = new SimJob(10, undefined);
    for (let i = 0; i < 10; i += 1) job.apply({ kind: 'claim', task: i });
    expect(job.status).toBe('active');
    for (let i = 0; i < 10; i += 1) job.apply({ kind: 'complete', task: i });
    expect(job.status).toBe('completed');

    const failing = new SimJob(10, undefined);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      failing.apply({ kind: 'claim', task: 0 });
      failing.apply({ kind: 'fail', task: 0 });
    }
    expect(failing.tasks[0]!.status).toBe('failed');
    expect(failing.status).toBe('failed');
    expect(failing.counts()).toMatchObject({ failed: 1, canceled: 9 });
  });

  it('waits for running tasks before a cancel or pause takes effect', () => {
    const job = new SimJob(3, undefined);
    job.apply({ kind: 'claim', task: 0 });
    job.apply({ kind: 'job-action', action: 'pause' });
    expect(job.status).toBe('pause-requested');
    expect(job.counts()).toMatchObject({ active: 1, paused: 2 });
    job.apply({ kind: 'fail', task: 0 }); // the worker stopped it as asked
    expect(job.status).toBe('paused');
    expect(job.counts()).toMatchObject({ paused: 3 });
    job.apply({ kind: 'job-action', action: 'resume' });
    expect(job.status).toBe('queued');
    job.apply({ kind: 'claim', task: 1 });
    job.apply({ kind: 'job-action', action: 'cancel' });
    expect(job.status).toBe('cancel-requested');
    job.apply({ kind: 'complete', task: 1 }); // finished before the stop arrived: kept
    expect(job.status).toBe('canceled');
    expect(job.counts()).toMatchObject({ completed: 1, canceled: 2 });
  });
});
