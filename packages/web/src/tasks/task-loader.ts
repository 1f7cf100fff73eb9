import type { TaskCompactList, TaskSummary } from '../api/api-types';
import {
  applyNewerTaskUpdates,
  applyTaskUpdate,
  columnsFromSummaries,
  createTaskStore,
  type TaskStore,
} from './task-table-model';

/** Where a job's tasks come from: the first page, and every task as columns. */
export interface TaskSource {
  firstPage(signal: AbortSignal): Promise<readonly TaskSummary[]>;
  all(signal: AbortSignal): Promise<TaskCompactList>;
}

/** What the loader tells its page. */
export interface TaskLoaderView {
  /** A new store: the first page (`complete` false) or every task. */
  show(store: TaskStore, complete: boolean): void;
  /** The shown store changed in place. */
  changed(): void;
  /** Loading every task failed (the last good store stays shown). */
  failed(error: unknown): void;
}

export interface TaskLoader {
  /** Applies a live `task-updated`; a task the full list does not hold asks for a refetch. */
  update(task: TaskSummary): void;
  /** Refetches every task after `refreshMs`; one in flight is never cut short, one more follows it. */
  refresh(): void;
  stop(): void;
}

/**
 * Loads a job's tasks for the task table: the first page is asked for and shown, then every task,
 * which replaces it. The full list is asked for only once the first page is in: the manager
 * (PGlite above all) runs one query at a time, and a first page queued behind the big one would
 * be no faster. Live updates that arrive while a full list is on its way are kept and applied to
 * it when newer than its rows (it may have been read before or after them). Refetches never abort
 * one another: with 100,000 tasks a refetch takes longer than the gap between bulk events, and
 * aborting would mean never finishing.
 */
export function startTaskLoader(
  source: TaskSource,
  view: TaskLoaderView,
  refreshMs: number,
): TaskLoader {
  const controller = new AbortController();
  const { signal } = controller;
  let store: TaskStore | undefined;
  let complete = false;
  // The first full load has begun; a refresh asked for before it would only repeat it.
  let started = false;
  let inFlight = false;
  let stale = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const pending = new Map<string, TaskSummary>();

  function show(next: TaskStore, full: boolean) {
    store = next;
    complete = full;
    view.show(next, full);
  }

  function refresh() {
    if (signal.aborted || !started) return;
    if (inFlight) {
      stale = true;
      return;
    }
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      void loadAll();
    }, refreshMs);
  }

  async function loadAll() {
    if (inFlight) {
      stale = true;
      return;
    }
    started = true;
    inFlight = true;
    stale = false;
    pending.clear();
    try {
      const next = createTaskStore(await source.all(signal));
      if (signal.aborted) return;
      applyNewerTaskUpdates(next, pending.values());
      show(next, true);
    } catch (error) {
      if (!signal.aborted) view.failed(error);
    } finally {
      inFlight = false;
      pending.clear();
      if (stale) refresh();
    }
  }

  source
    .firstPage(signal)
    .then((tasks) => {
      if (!signal.aborted && !store) show(createTaskStore(columnsFromSummaries(tasks)), false);
    })
    // The full list reports the error that matters; a failed first page only costs time.
    .catch(() => undefined)
    .finally(() => {
      if (!signal.aborted) void loadAll();
    });

  return {
    update(task) {
      if (signal.aborted) return;
      if (inFlight) pending.set(task.id, task);
      if (store && applyTaskUpdate(store, task)) view.changed();
      else if (complete) refresh();
    },
    refresh,
    stop() {
      controller.abort();
      if (timer !== null) clearTimeout(timer);
    },
  };
}
