import type { TaskCompactList, TaskCounts, TaskStatus, TaskSummary } from '../api/api-types';
import { TASK_STATUSES, allowedTaskActions, type JobStatus, type TaskAction } from '../core-rules';

export type TaskSortColumn =
  'index' | 'status' | 'name' | 'type' | 'worker' | 'progress' | 'updated';

export interface TaskSort {
  column: TaskSortColumn;
  descending: boolean;
}

export interface TaskFilter {
  /** Empty: every status. */
  statuses: ReadonlySet<TaskStatus>;
  /** Matched case-insensitively against name, type and worker; `#12` matches index 12. */
  text: string;
}

/**
 * Every task of a job as the manager's columns, plus a row lookup by id. Live updates change rows
 * in place (100,000 tasks make copying every column per event too slow) and bump `version`.
 */
export interface TaskStore {
  columns: TaskCompactList;
  rowOf: Map<string, number>;
  version: number;
}

/** Wraps the compact list from `GET /jobs/{id}/tasks/compact`. */
export function createTaskStore(columns: TaskCompactList): TaskStore {
  const rowOf = new Map<string, number>();
  columns.ids.forEach((id, row) => rowOf.set(id, row));
  return { columns, rowOf, version: 0 };
}

/**
 * A store of the first page of tasks (`GET /jobs/{id}/tasks`), shown while the full compact list
 * is still on its way: the first rows of a 100,000-task job appear long before all of them.
 */
export function columnsFromSummaries(tasks: readonly TaskSummary[]): TaskCompactList {
  return {
    ids: tasks.map((t) => t.id),
    indexes: tasks.map((t) => t.index),
    names: tasks.map((t) => t.name),
    statuses: tasks.map((t) => t.status),
    types: tasks.map((t) => t.type),
    workerNames: tasks.map((t) => t.worker?.name ?? null),
    updated: tasks.map((t) => t.updated),
    progress: tasks.map((t) => t.progress),
  };
}

/**
 * Applies live updates that arrived while the full list was loading. The list may have been read
 * before or after each update, so an update older than its row is skipped rather than winding
 * the row back. Returns how many rows changed.
 */
export function applyNewerTaskUpdates(store: TaskStore, tasks: Iterable<TaskSummary>): number {
  let applied = 0;
  for (const task of tasks) {
    const row = store.rowOf.get(task.id);
    if (row === undefined) continue;
    const current = Date.parse(store.columns.updated[row] ?? '');
    if (Number.isFinite(current) && Date.parse(task.updated) < current) continue;
    if (applyTaskUpdate(store, task)) applied += 1;
  }
  return applied;
}

/** Applies a live `task-updated` to its row; false when the task is not in the store. */
export function applyTaskUpdate(store: TaskStore, task: TaskSummary): boolean {
  const row = store.rowOf.get(task.id);
  if (row === undefined) return false;
  const c = store.columns;
  c.statuses[row] = task.status;
  c.names[row] = task.name;
  c.types[row] = task.type;
  c.workerNames[row] = task.worker?.name ?? null;
  c.updated[row] = task.updated;
  c.progress[row] = task.progress;
  store.version += 1;
  return true;
}

const STATUS_RANK = new Map<string, number>(TASK_STATUSES.map((s, i) => [s, i]));

// Digit runs padded to a fixed width make plain string order natural ("frame 2" before "frame 10")
// at a fraction of Intl.Collator's cost, which matters for 100,000 names.
function naturalKey(text: string): string {
  return text.toLowerCase().replace(/\d+/g, (digits) => digits.padStart(12, '0'));
}

function compareKeys<T extends string | number>(
  keys: readonly T[],
): (a: number, b: number) => number {
  return (a, b) => {
    const x = keys[a] as T;
    const y = keys[b] as T;
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

function isSortedByIndex(rows: readonly number[], indexes: readonly number[]): boolean {
  for (let i = 1; i < rows.length; i += 1) {
    if ((indexes[rows[i - 1] as number] as number) > (indexes[rows[i] as number] as number))
      return false;
  }
  return true;
}

/**
 * The rows to show, in order: filtered by status and text, sorted by one column with the task
 * index as the tie-break (so equal rows never swap places between live updates).
 */
export function visibleTaskRows(store: TaskStore, filter: TaskFilter, sort: TaskSort): number[] {
  const c = store.columns;
  const count = c.ids.length;
  const text = filter.text.trim().toLowerCase();
  const indexMatch = /^#(\d+)$/.exec(text);
  const rows: number[] = [];
  for (let row = 0; row < count; row += 1) {
    if (filter.statuses.size > 0 && !filter.statuses.has(c.statuses[row] as TaskStatus)) continue;
    if (indexMatch) {
      if (c.indexes[row] !== Number(indexMatch[1])) continue;
    } else if (text) {
      const haystack = `${c.names[row]}\u0000${c.types[row]}\u0000${c.workerNames[row] ?? ''}`;
      if (!haystack.toLowerCase().includes(text)) continue;
    }
    rows.push(row);
  }
  let primary: ((a: number, b: number) => number) | null = null;
  switch (sort.column) {
    case 'index':
      break;
    case 'status':
      primary = (a, b) =>
        (STATUS_RANK.get(c.statuses[a] as string) ?? 99) -
        (STATUS_RANK.get(c.statuses[b] as string) ?? 99);
      break;
    case 'name':
      primary = compareKeys(c.names.map(naturalKey));
      break;
    case 'type':
      primary = compareKeys(c.types);
      break;
    case 'worker':
      primary = compareKeys(c.workerNames.map((name) => (name ?? '').toLowerCase()));
      break;
    case 'progress':
      primary = (a, b) => (c.progress[a] as number) - (c.progress[b] as number);
      break;
    case 'updated':
      primary = compareKeys(c.updated.map((iso) => Date.parse(iso) || 0));
      break;
  }
  const sign = sort.descending ? -1 : 1;
  const byIndex = (a: number, b: number) => (c.indexes[a] as number) - (c.indexes[b] as number);
  if (primary) {
    const compare = primary;
    rows.sort((a, b) => compare(a, b) * sign || byIndex(a, b));
  } else {
    // The manager sends tasks in index order, so the default view usually needs no sort at all.
    if (!isSortedByIndex(rows, c.indexes)) rows.sort(byIndex);
    if (sort.descending) rows.reverse();
  }
  return rows;
}

/** Counts per task status, for the job page's summary line. */
export function countTaskRows(store: TaskStore): Map<TaskStatus, number> {
  const counts = new Map<TaskStatus, number>();
  for (const status of store.columns.statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  return counts;
}

/** The job's own counts per status (from `Job.taskCounts`) in the shape of `countTaskRows`. */
export function taskCountsMap(counts: TaskCounts | undefined): Map<TaskStatus, number> {
  const map = new Map<TaskStatus, number>();
  if (counts) for (const status of TASK_STATUSES) map.set(status, counts[status]);
  return map;
}

/**
 * The batch task actions a selection allows: enabled only when core's table allows the action for
 * every selected task in a job of `jobStatus`.
 */
export function enabledTaskActions(
  statuses: readonly TaskStatus[],
  jobStatus: JobStatus | undefined,
): Set<TaskAction> {
  const enabled = new Set<TaskAction>();
  if (statuses.length === 0) return enabled;
  for (const action of ['requeue', 'cancel'] as const) {
    if (statuses.every((status) => allowedTaskActions(status, jobStatus).includes(action))) {
      enabled.add(action);
    }
  }
  return enabled;
}
