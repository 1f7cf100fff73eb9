import type { TaskCompactList, TaskStatus } from '../api/api-types';
import {
  applyNewerTaskUpdates,
  applyTaskUpdate,
  columnsFromSummaries,
  countTaskRows,
  createTaskStore,
  enabledTaskActions,
  taskCountsMap,
  visibleTaskRows,
} from './task-table-model';

function compact(rows: Array<[string, TaskStatus, string | null]>): TaskCompactList {
  return {
    ids: rows.map((_, i) => `t${i}`),
    indexes: rows.map((_, i) => i),
    names: rows.map(([name]) => name),
    statuses: rows.map(([, status]) => status),
    types: rows.map(([name]) => (name.startsWith('encode') ? 'ffmpeg' : 'blender')),
    workerNames: rows.map(([, , worker]) => worker),
    updated: rows.map((_, i) => new Date(Date.UTC(2026, 0, 1, 0, 0, 10 - i)).toISOString()),
    progress: rows.map(() => 0),
  };
}

const sample = () =>
  createTaskStore(
    compact([
      ['render 1-10', 'completed', 'alpha'],
      ['render 11-20', 'active', 'beta'],
      ['render 2-3', 'failed', 'alpha'],
      ['render 21-30', 'queued', null],
      ['encode video', 'queued', null],
    ]),
  );

const ids = (store: ReturnType<typeof sample>, rows: number[]) =>
  rows.map((r) => store.columns.ids[r]);
const none = new Set<TaskStatus>();

describe('visibleTaskRows', () => {
  it('shows every task in index order by default', () => {
    const store = sample();
    expect(
      ids(
        store,
        visibleTaskRows(
          store,
          { statuses: none, text: '' },
          { column: 'index', descending: false },
        ),
      ),
    ).toEqual(['t0', 't1', 't2', 't3', 't4']);
  });

  it('filters by status and by text in name, type and worker', () => {
    const store = sample();
    const byIndex = { column: 'index' as const, descending: false };
    expect(
      ids(store, visibleTaskRows(store, { statuses: new Set(['queued']), text: '' }, byIndex)),
    ).toEqual(['t3', 't4']);
    expect(ids(store, visibleTaskRows(store, { statuses: none, text: 'ALPHA' }, byIndex))).toEqual([
      't0',
      't2',
    ]);
    expect(ids(store, visibleTaskRows(store, { statuses: none, text: 'ffmpeg' }, byIndex))).toEqual(
      ['t4'],
    );
    expect(
      ids(
        store,
        visibleTaskRows(store, { statuses: new Set(['queued']), text: 'render' }, byIndex),
      ),
    ).toEqual(['t3']);
  });

  it('finds a task by its index with #n', () => {
    const store = sample();
    expect(
      ids(
        store,
        visibleTaskRows(
          store,
          { statuses: none, text: '#2' },
          { column: 'index', descending: false },
        ),
      ),
    ).toEqual(['t2']);
  });

  it('sorts names naturally, so "render 2-3" comes before "render 11-20"', () => {
    const store = sample();
    expect(
      ids(
        store,
        visibleTaskRows(store, { statuses: none, text: '' }, { column: 'name', descending: false }),
      ),
    ).toEqual(['t4', 't0', 't2', 't1', 't3']);
  });

  it('sorts by status in lifecycle order with the index breaking ties, both directions', () => {
    const store = sample();
    const asc = ids(
      store,
      visibleTaskRows(store, { statuses: none, text: '' }, { column: 'status', descending: false }),
    );
    expect(asc).toEqual(['t3', 't4', 't1', 't0', 't2']);
    const desc = ids(
      store,
      visibleTaskRows(store, { statuses: none, text: '' }, { column: 'status', descending: true }),
    );
    expect(desc).toEqual(['t2', 't0', 't1', 't3', 't4']);
  });

  it('sorts by last update and by worker', () => {
    const store = sample();
    expect(
      ids(
        store,
        visibleTaskRows(
          store,
          { statuses: none, text: '' },
          { column: 'updated', descending: true },
        ),
      ),
    ).toEqual(['t0', 't1', 't2', 't3', 't4']);
    expect(
      ids(
        store,
        visibleTaskRows(
          store,
          { statuses: none, text: '' },
          { column: 'worker', descending: false },
        ),
      ),
    ).toEqual(['t3', 't4', 't0', 't2', 't1']);
  });

  it('handles 100,000 tasks', () => {
    const rows: Array<[string, TaskStatus, string | null]> = [];
    for (let i = 0; i < 100_000; i += 1)
      rows.push([`frame ${i}`, i % 7 === 0 ? 'failed' : 'queued', null]);
    const store = createTaskStore(compact(rows));
    const failed = visibleTaskRows(
      store,
      { statuses: new Set(['failed']), text: '' },
      { column: 'name', descending: true },
    );
    expect(failed).toHaveLength(Math.ceil(100_000 / 7));
    expect(store.columns.names[failed[0] as number]).toBe('frame 99995');
  });
});

describe('applyTaskUpdate', () => {
  it('changes the row in place and moves it between status filters', () => {
    const store = sample();
    const before = store.version;
    const changed = applyTaskUpdate(store, {
      id: 't3',
      jobId: 'j',
      index: 3,
      name: 'render 21-30',
      type: 'blender',
      status: 'active',
      priority: 50,
      worker: { id: 'w', name: 'gamma' },
      progress: 0.5,
      activity: '',
      updated: '2026-01-02T00:00:00Z',
    });
    expect(changed).toBe(true);
    expect(store.version).toBe(before + 1);
    expect(countTaskRows(store).get('active')).toBe(2);
    expect(
      ids(
        store,
        visibleTaskRows(
          store,
          { statuses: new Set(['active']), text: 'gamma' },
          { column: 'index', descending: false },
        ),
      ),
    ).toEqual(['t3']);
  });

  it('says so when the task is unknown (the page then refetches)', () => {
    const store = sample();
    expect(
      applyTaskUpdate(store, {
        id: 'other',
        jobId: 'j',
        index: 9,
        name: 'x',
        type: 'blender',
        status: 'queued',
        priority: 50,
        worker: null,
        progress: 0,
        activity: '',
        updated: '2026-01-02T00:00:00Z',
      }),
    ).toBe(false);
  });
});

function summary(id: string, status: TaskStatus, updated: string, worker: string | null = null) {
  return {
    id,
    jobId: 'j',
    index: Number(id.slice(1)),
    name: `task ${id}`,
    type: 'blender',
    status,
    priority: 50,
    worker: worker ? { id: `w-${worker}`, name: worker } : null,
    progress: 0.25,
    activity: '',
    updated,
  };
}

describe('the first page, before the full list', () => {
  it('turns a page of task summaries into the same columns the full list has', () => {
    const page = [
      summary('t0', 'completed', '2026-01-01T00:00:01.000Z', 'alpha'),
      summary('t1', 'active', '2026-01-01T00:00:02.000Z', 'beta'),
    ];
    const store = createTaskStore(columnsFromSummaries(page));
    expect(store.columns).toEqual({
      ids: ['t0', 't1'],
      indexes: [0, 1],
      names: ['task t0', 'task t1'],
      statuses: ['completed', 'active'],
      types: ['blender', 'blender'],
      workerNames: ['alpha', 'beta'],
      updated: ['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z'],
      progress: [0.25, 0.25],
    });
    expect(store.rowOf.get('t1')).toBe(1);
  });

  it('applies updates seen while the full list loaded only when newer than its rows', () => {
    const store = sample(); // t1 was updated at 00:00:09, t3 at 00:00:07
    const applied = applyNewerTaskUpdates(store, [
      // Older than the list: the list was read after it, so it must not wind the row back.
      summary('t1', 'queued', '2026-01-01T00:00:05.000Z'),
      // Newer: the list was read before it.
      summary('t3', 'active', '2026-01-01T00:00:30.000Z', 'gamma'),
      // Not in the list at all.
      summary('t9', 'active', '2026-01-01T00:00:30.000Z'),
    ]);
    expect(applied).toBe(1);
    expect(store.columns.statuses).toEqual(['completed', 'active', 'failed', 'active', 'queued']);
    expect(store.columns.workerNames[3]).toBe('gamma');
  });

  it("takes the job's own counts while only the first page is in", () => {
    const counts = taskCountsMap({
      queued: 99000,
      active: 2,
      completed: 998,
      'soft-failed': 0,
      failed: 0,
      canceled: 0,
      paused: 0,
      total: 100000,
    });
    expect(counts.get('queued')).toBe(99000);
    expect(counts.get('completed')).toBe(998);
    expect(taskCountsMap(undefined).size).toBe(0);
  });
});

describe('enabledTaskActions', () => {
  it('enables an action only when every selected task allows it', () => {
    expect([...enabledTaskActions(['failed', 'completed'], 'failed')]).toEqual(['requeue']);
    expect([...enabledTaskActions(['queued', 'active'], 'active')]).toEqual(['cancel']);
    expect([...enabledTaskActions(['soft-failed'], 'active')].sort()).toEqual([
      'cancel',
      'requeue',
    ]);
    expect([...enabledTaskActions(['queued', 'completed'], 'active')]).toEqual([]);
  });

  it('enables nothing for an empty selection, a paused task, or a job in a passing state', () => {
    expect(enabledTaskActions([], 'active').size).toBe(0);
    expect(enabledTaskActions(['paused'], 'paused').size).toBe(0);
    expect(enabledTaskActions(['failed'], 'cancel-requested').size).toBe(0);
    expect(enabledTaskActions(['failed'], 'archived').size).toBe(0);
  });
});
