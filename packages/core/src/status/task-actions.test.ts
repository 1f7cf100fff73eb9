import { isFarmError } from '../errors';
import { JOB_STATUSES } from './job-status';
import {
  TASK_ACTIONS,
  allowedTaskActions,
  assertTaskAction,
  isTaskAction,
  taskActionTarget,
  type TaskAction,
} from './task-actions';
import { TASK_STATUSES, type TaskStatus } from './task-status';

// DESIGN.md: requeue (from canceled, completed, failed, soft-failed), cancel (from queued, active,
// soft-failed).
const DESIGN_TABLE: Record<TaskStatus, Record<TaskAction, boolean>> = {
  queued: { requeue: false, cancel: true },
  active: { requeue: false, cancel: true },
  completed: { requeue: true, cancel: false },
  'soft-failed': { requeue: true, cancel: true },
  failed: { requeue: true, cancel: false },
  canceled: { requeue: true, cancel: false },
  paused: { requeue: false, cancel: false },
};

describe('task actions', () => {
  const pairs = TASK_STATUSES.flatMap((status) =>
    TASK_ACTIONS.map((action) => [status, action, DESIGN_TABLE[status][action]] as const),
  );

  it.each(pairs)('%s + %s allowed: %s', (status, action, allowed) => {
    expect(allowedTaskActions(status).includes(action)).toBe(allowed);
    if (allowed) {
      expect(taskActionTarget(status, action)).toBe(action === 'requeue' ? 'queued' : 'canceled');
      return;
    }
    let thrown: unknown;
    try {
      assertTaskAction(status, action);
    } catch (error) {
      thrown = error;
    }
    expect(isFarmError(thrown) && thrown.code).toBe('invalid_transition');
    expect(String((thrown as Error).message)).toContain(
      `cannot ${action} a task that is ${status}`,
    );
    expect(() => taskActionTarget(status, action)).toThrow(/cannot/);
  });

  it('allows task actions only in jobs that are not changing or archived', () => {
    const allowing = JOB_STATUSES.filter((job) => allowedTaskActions('failed', job).length > 0);
    expect(allowing).toEqual(['queued', 'active', 'paused', 'canceled', 'completed', 'failed']);
    expect(() => assertTaskAction('failed', 'requeue', 'archived')).toThrow(
      'cannot requeue a task that is failed in a job that is archived (allowed actions: none)',
    );
  });

  it('parks a task requeued in a paused job, so it waits for resume', () => {
    expect(taskActionTarget('failed', 'requeue', 'paused')).toBe('paused');
    expect(taskActionTarget('failed', 'requeue', 'completed')).toBe('queued');
  });

  it('recognises task actions', () => {
    expect(isTaskAction('cancel')).toBe(true);
    expect(isTaskAction('pause')).toBe(false);
  });
});
