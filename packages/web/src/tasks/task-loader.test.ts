import type { TaskCompactList, TaskStatus, TaskSummary } from '../api/api-types';
import { startTaskLoader, type TaskLoader } from './task-loader';
import type { TaskStore } from './task-table-model';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();

function task(index: number, status: TaskStatus, updatedSecond: number): TaskSummary {
  return {
    id: `t${index}`,
    jobId: 'j',
    index,
    name: `frame ${index}`,
    type: 'blender',
    status,
    priority: 50,
    worker: null,
    progress: 0,
    activity: '',
    updated: at(updatedSecond),
  };
}

function columns(count: number, status: TaskStatus, updatedSecond: number): TaskCompactList {
  const tasks = Array.from({ length: count }, (_, i) => task(i, status, updatedSecond));
  return {
    ids: tasks.map((t) => t.id),
    indexes: tasks.map((t) => t.index),
    names: tasks.map((t) => t.name),
    statuses: tasks.map((t) => t.status),
    types: tasks.map((t) => t.type),
    workerNames: tasks.map(() => null),
    updated: tasks.map((t) => t.updated),
    progress: tasks.map(() => 0),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

/** A loader on a fake source whose answers the test hands out one by one. */
function harness() {
  const firstPages: Array<ReturnType<typeof deferred<readonly TaskSummary[]>>> = [];
  const fulls: Array<ReturnType<typeof deferred<TaskCompactList>>> = [];
  const shown: Array<{ store: TaskStore; complete: boolean }> = [];
  const errors: unknown[] = [];
  let changes = 0;
  const loader: TaskLoader = startTaskLoader(
    {
      firstPage: () => {
        firstPages.push(deferred());
        return firstPages[firstPages.length - 1]!.promise;
      },
      all: () => {
        fulls.push(deferred());
        return fulls[fulls.length - 1]!.promise;
      },
    },
    {
      show: (store, complete) => shown.push({ store, complete }),
      changed: () => (changes += 1),
      failed: (error) => errors.push(error),
    },
    0,
  );
  return {
    loader,
    firstPages,
    fulls,
    shown,
    errors,
    changes: () => changes,
    last: () => shown[shown.length - 1]!,
  };
}

describe('startTaskLoader', () => {
  it('shows the first page, and asks for every task only once the page is in', async () => {
    const h = harness();
    await tick();
    expect(h.firstPages).toHaveLength(1);
    expect(h.fulls).toHaveLength(0);
    h.firstPages[0]!.resolve([task(0, 'queued', 1), task(1, 'queued', 1)]);
    await tick();
    expect(h.last().complete).toBe(false);
    expect(h.last().store.columns.ids).toEqual(['t0', 't1']);
    expect(h.fulls).toHaveLength(1);
    h.fulls[0]!.resolve(columns(500, 'queued', 1));
    await tick();
    expect(h.last().complete).toBe(true);
    expect(h.last().store.columns.ids).toHaveLength(500);
    h.loader.stop();
  });

  it('applies updates that came during the full load when newer than the list, not older', async () => {
    const h = harness();
    h.firstPages[0]!.resolve([task(0, 'queued', 1)]);
    await tick();
    // Read at second 5: t3 changed at second 9 (after), t4 at second 2 (before the list was read).
    h.loader.update(task(3, 'active', 9));
    h.loader.update(task(4, 'failed', 2));
    h.fulls[0]!.resolve(columns(10, 'completed', 5));
    await tick();
    const { store, complete } = h.last();
    expect(complete).toBe(true);
    expect(store.columns.statuses[3]).toBe('active');
    expect(store.columns.statuses[4]).toBe('completed');
    h.loader.stop();
  });

  it('never aborts a refetch in flight: the refreshes asked for meanwhile make one more', async () => {
    const h = harness();
    h.firstPages[0]!.resolve([]);
    await tick();
    h.fulls[0]!.resolve(columns(3, 'queued', 1));
    await tick();
    h.loader.refresh();
    await tick();
    expect(h.fulls).toHaveLength(2);
    // Three bulk events while the refetch runs.
    h.loader.refresh();
    h.loader.refresh();
    h.loader.refresh();
    await tick();
    expect(h.fulls).toHaveLength(2);
    h.fulls[1]!.resolve(columns(3, 'active', 2));
    await tick();
    expect(h.last().store.columns.statuses).toEqual(['active', 'active', 'active']);
    expect(h.fulls).toHaveLength(3);
    h.fulls[2]!.resolve(columns(3, 'completed', 3));
    await tick();
    expect(h.fulls).toHaveLength(3);
    expect(h.last().store.columns.statuses).toEqual(['completed', 'completed', 'completed']);
    h.loader.stop();
  });

  it('updates rows in place, and refetches for a task the full list does not hold', async () => {
    const h = harness();
    h.firstPages[0]!.resolve([]);
    await tick();
    h.fulls[0]!.resolve(columns(3, 'queued', 1));
    await tick();
    h.loader.update(task(1, 'active', 2));
    expect(h.changes()).toBe(1);
    expect(h.last().store.columns.statuses[1]).toBe('active');
    h.loader.update(task(7, 'queued', 2));
    await tick();
    expect(h.fulls).toHaveLength(2);
    h.loader.stop();
  });

  it('keeps the first page and reports the error when every task cannot be loaded', async () => {
    const h = harness();
    // A refresh before the first full load would only repeat it.
    h.loader.refresh();
    h.firstPages[0]!.resolve([task(0, 'queued', 1)]);
    await tick();
    expect(h.fulls).toHaveLength(1);
    h.fulls[0]!.reject(new Error('503 Service Unavailable'));
    await tick();
    expect(h.errors).toHaveLength(1);
    expect(h.last()).toMatchObject({ complete: false });
    expect(h.last().store.columns.ids).toEqual(['t0']);
    h.loader.stop();
  });

  it('shows nothing after stop', async () => {
    const h = harness();
    h.loader.stop();
    h.firstPages[0]!.resolve([task(0, 'queued', 1)]);
    await tick();
    expect(h.shown).toHaveLength(0);
    expect(h.fulls).toHaveLength(0);
  });
});
