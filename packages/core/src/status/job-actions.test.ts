import { isFarmError } from '../errors';
import {
  JOB_ACTIONS,
  JOB_ACTION_TASK_EFFECTS,
  allowedJobActions,
  assertJobAction,
  isJobAction,
  jobActionTarget,
  type JobAction,
} from './job-actions';
import { JOB_STATUSES, type JobStatus } from './job-status';
import { countTaskStatuses, emptyTaskCounts } from './task-counts';

// DESIGN.md "Status machines", copied literally (its last row spelled out per status).
const DESIGN_TABLE = `
| job status       | cancel | pause | resume | requeue all | requeue failed | archive | delete | set priority |
| waiting          | yes    |       |        |             |                |         | yes    | yes          |
| queued           | yes    | yes   |        |             |                |         | yes    | yes          |
| active           | yes    | yes   |        |             | yes            |         |        | yes          |
| paused           | yes    |       | yes    | yes         |                | yes     | yes    | yes          |
| completed        |        |       |        | yes         |                | yes     | yes    |              |
| failed           | yes    |       |        | yes         | yes            | yes     | yes    |              |
| canceled         |        |       |        | yes         |                | yes     | yes    |              |
| pause-requested  |        |       |        |             |                |         |        |              |
| cancel-requested |        |       |        |             |                |         |        |              |
| requeueing       |        |       |        |             |                |         |        |              |
| archived         |        |       |        |             |                |         | yes    |              |
`;

const COLUMN_ACTIONS: readonly JobAction[] = [
  'cancel',
  'pause',
  'resume',
  'requeue',
  'requeue-failed',
  'archive',
  'delete',
  'set-priority',
];

function parseTable(): Map<JobStatus, Set<JobAction>> {
  const rows = DESIGN_TABLE.trim().split('\n').slice(1);
  const table = new Map<JobStatus, Set<JobAction>>();
  for (const row of rows) {
    const cells = row
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    const allowed = new Set<JobAction>();
    COLUMN_ACTIONS.forEach((action, i) => {
      if (cells[i + 1] === 'yes') allowed.add(action);
    });
    table.set(cells[0] as JobStatus, allowed);
  }
  return table;
}

const designTable = parseTable();

describe('job actions', () => {
  it('covers every job status in the design table', () => {
    expect([...designTable.keys()].sort()).toEqual([...JOB_STATUSES].sort());
    expect([...COLUMN_ACTIONS].sort()).toEqual([...JOB_ACTIONS].sort());
  });

  const pairs = JOB_STATUSES.flatMap((status) =>
    JOB_ACTIONS.map((action) => [status, action, designTable.get(status)!.has(action)] as const),
  );

  it.each(pairs)('%s + %s allowed: %s', (status, action, allowed) => {
    expect(allowedJobActions(status).includes(action)).toBe(allowed);
    if (allowed) {
      expect(() => assertJobAction(status, action)).not.toThrow();
      return;
    }
    let thrown: unknown;
    try {
      assertJobAction(status, action);
    } catch (error) {
      thrown = error;
    }
    expect(isFarmError(thrown)).toBe(true);
    if (!isFarmError(thrown)) return;
    expect(thrown.code).toBe('invalid_transition');
    expect(thrown.message).toContain(status);
    expect(thrown.message).toContain(action);
    expect(thrown.details).toEqual({
      status,
      action,
      allowedActions: JOB_ACTIONS.filter((a) => designTable.get(status)!.has(a)),
    });
    expect(() => jobActionTarget(status, action, emptyTaskCounts())).toThrow(/cannot/);
  });

  it('recognises job actions', () => {
    expect(isJobAction('requeue-failed')).toBe(true);
    expect(isJobAction('recreate')).toBe(false);
  });
});

describe('jobActionTarget', () => {
  const idle = countTaskStatuses(['queued', 'completed']);
  const running = countTaskStatuses(['queued', 'active', 'completed']);

  it('cancels at once when nothing runs, else waits for the running tasks to stop', () => {
    expect(jobActionTarget('queued', 'cancel', idle)).toBe('canceled');
    expect(jobActionTarget('active', 'cancel', running)).toBe('cancel-requested');
    expect(jobActionTarget('failed', 'cancel', countTaskStatuses(['failed', 'active']))).toBe(
      'cancel-requested',
    );
    expect(jobActionTarget('paused', 'cancel', countTaskStatuses(['paused']))).toBe('canceled');
  });

  it('pauses at once when nothing runs, else via pause-requested', () => {
    expect(jobActionTarget('queued', 'pause', idle)).toBe('paused');
    expect(jobActionTarget('active', 'pause', idle)).toBe('paused');
    expect(jobActionTarget('active', 'pause', running)).toBe('pause-requested');
  });

  it('resumes to queued, or active when a task still runs', () => {
    expect(jobActionTarget('paused', 'resume', countTaskStatuses(['paused']))).toBe('queued');
    expect(jobActionTarget('paused', 'resume', running)).toBe('active');
  });

  it('requeues through requeueing, archives, deletes and keeps the status on set-priority', () => {
    expect(jobActionTarget('completed', 'requeue', idle)).toBe('requeueing');
    expect(jobActionTarget('active', 'requeue-failed', running)).toBe('requeueing');
    expect(jobActionTarget('canceled', 'archive', idle)).toBe('archived');
    expect(jobActionTarget('archived', 'delete', idle)).toBe('deleted');
    expect(jobActionTarget('paused', 'set-priority', idle)).toBe('paused');
  });
});

describe('job action task effects', () => {
  it('never moves active tasks in bulk; the actions that end work stop them instead', () => {
    for (const action of JOB_ACTIONS) {
      const effect = JOB_ACTION_TASK_EFFECTS[action];
      expect(effect.move?.from ?? []).not.toContain('active');
    }
    const stopping = JOB_ACTIONS.filter((a) => JOB_ACTION_TASK_EFFECTS[a].stopActiveTasks);
    expect(stopping.sort()).toEqual(['archive', 'cancel', 'delete', 'pause']);
  });

  it('requeue-failed keeps completed tasks; requeue all reruns them', () => {
    expect(JOB_ACTION_TASK_EFFECTS['requeue-failed'].move?.from).not.toContain('completed');
    expect(JOB_ACTION_TASK_EFFECTS.requeue.move?.from).toContain('completed');
    expect(JOB_ACTION_TASK_EFFECTS.requeue.clearTaskFailures).toBe(true);
  });

  it('leaves nothing claimable after cancel, pause or archive', () => {
    for (const action of ['cancel', 'pause', 'archive'] as const) {
      const from = JOB_ACTION_TASK_EFFECTS[action].move?.from ?? [];
      expect(from).toEqual(expect.arrayContaining(['queued', 'soft-failed']));
    }
    expect(JOB_ACTION_TASK_EFFECTS.resume.move).toEqual({ from: ['paused'], to: 'queued' });
  });
});
