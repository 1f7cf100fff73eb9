import { sql, type Kysely } from 'kysely';
import type { BroadcastEvent, TaskSummary } from '@farm/core';
import type { Database } from '../../db';
import { preparedMarker } from '../../db/prepared-statements';

/** What this replica knows of a task it handed to a worker (from the claim). */
export interface AssignedTaskFacts {
  workerId: string;
  workerName: string;
  jobId: string;
  index: number;
  name: string;
  type: string;
  priority: number;
  /** The newest progress and activity reported (shown in `task-updated` events). */
  progress: number;
  activity: string;
}

/** Progress of one task not yet written: the newest values and the log bytes since. */
export interface HeldProgress {
  workerId: string;
  activity?: string;
  progress?: number;
  stepsDone?: number;
  logBytes: number;
}

export interface ProgressBufferOptions {
  /** How long a report may wait before it is written; the task timeout is minutes. */
  flushIntervalMs?: number;
  /** Written at once when this many tasks have progress waiting. */
  maxHeld?: number;
  /** Tasks remembered at most (the oldest are forgotten first: their reports read the database). */
  maxRemembered?: number;
  onError?: (error: unknown) => void;
}

/**
 * Progress reports of tasks this replica assigned, kept in memory and written in one statement
 * per interval (docs/decisions/0025).
 *
 * Why: a task's lifecycle is a claim, a completion and, between them, progress reports (the
 * worker's "started", its log lines and percentages). Writing each report was half of the
 * database's row updates per task, for values that a completion overwrites moments later and
 * that a crash may lose anyway (they commit asynchronously, docs/decisions/0007). A report is
 * held only when this replica handed that task to that very worker; anything else (another
 * worker's task, a task this replica never saw) reads the database as before and gets its
 * 404/409. The write is guarded like the single update (the worker's own active task): when a
 * held report no longer applies (the task was canceled or requeued meanwhile), the task is
 * forgotten, so the worker's next report reads the database and gets its 409; the worker was
 * also told to stop (`stop-task`). A completion takes the task's held progress with it.
 */
export interface ProgressBuffer {
  remember(taskId: string, facts: AssignedTaskFacts): void;
  forget(taskId: string): void;
  /** The facts of the task when this replica handed it to `workerId`; undefined otherwise. */
  assignedTo(taskId: string, workerId: string): AssignedTaskFacts | undefined;
  /** Holds a report of a task `assignedTo` knows; answers the summary its event shows. */
  hold(
    taskId: string,
    report: { activity?: string; progress?: number; stepsDone?: number; logBytes: number },
  ): TaskSummary | null;
  /** Takes (removes) the task's held progress, e.g. into its completion. */
  take(taskId: string): HeldProgress | undefined;
  /** Keeps the memory true to other changes: a task that left `active` is forgotten. */
  onEvent(event: BroadcastEvent): void;
  /** Writes everything held now. */
  flush(): Promise<void>;
  /** Writes what is held and stops the timer. */
  close(): Promise<void>;
  readonly held: number;
}

export const DEFAULT_PROGRESS_FLUSH_MS = 250;
const DEFAULT_MAX_HELD = 2000;
const DEFAULT_MAX_REMEMBERED = 100_000;

export function createProgressBuffer(
  db: Kysely<Database>,
  options: ProgressBufferOptions = {},
): ProgressBuffer {
  const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_PROGRESS_FLUSH_MS;
  const maxHeld = options.maxHeld ?? DEFAULT_MAX_HELD;
  const maxRemembered = options.maxRemembered ?? DEFAULT_MAX_REMEMBERED;
  const remembered = new Map<string, AssignedTaskFacts>();
  let held = new Map<string, HeldProgress>();
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;

  const forget = (taskId: string): void => {
    remembered.delete(taskId);
    held.delete(taskId);
  };

  async function write(batch: Map<string, HeldProgress>): Promise<void> {
    const ids = [...batch.keys()];
    const entries = [...batch.values()];
    const workerIds = [...new Set(entries.map((entry) => entry.workerId))];
    const { rows } = await sql<{ id: string }>`${sql.raw(preparedMarker('progress-flush'))}
      with seen as (
        update workers set last_seen_at = now()
        where id = any(${workerIds}::uuid[])
          and (last_seen_at is null or last_seen_at < now() - interval '5 seconds')
      )
      update tasks t set
        activity = coalesce(d.activity, t.activity),
        progress = coalesce(d.progress, t.progress),
        steps_done = coalesce(d.steps_done, t.steps_done),
        log_size = t.log_size + d.log_bytes,
        last_touched_at = now(),
        updated_at = now()
      from unnest(
        ${ids}::uuid[],
        ${entries.map((entry) => entry.workerId)}::uuid[],
        ${entries.map((entry) => entry.activity ?? null)}::text[],
        ${entries.map((entry) => entry.progress ?? null)}::real[],
        ${entries.map((entry) => entry.stepsDone ?? null)}::int[],
        ${entries.map((entry) => entry.logBytes)}::bigint[]
      ) as d(id, worker_id, activity, progress, steps_done, log_bytes),
      (select set_config('synchronous_commit', 'off', true)) as async_commit
      where t.id = d.id and t.worker_id = d.worker_id and t.status = 'active'
      returning t.id`.execute(db);
    const applied = new Set(rows.map((row) => row.id));
    for (const [taskId, entry] of batch) {
      const facts = remembered.get(taskId);
      if (!applied.has(taskId) && facts?.workerId === entry.workerId) remembered.delete(taskId);
    }
  }

  function flushNow(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (held.size === 0) return writing;
    const batch = held;
    held = new Map();
    writing = writing.then(() =>
      write(batch).catch((error: unknown) => {
        // Lost progress only delays a percentage; the completion writes the final state.
        options.onError?.(error);
      }),
    );
    return writing;
  }

  function schedule(): void {
    if (held.size >= maxHeld) {
      void flushNow();
      return;
    }
    if (timer || closed) return;
    timer = setTimeout(() => void flushNow(), flushIntervalMs);
    timer.unref();
  }

  return {
    remember(taskId, facts) {
      remembered.delete(taskId);
      remembered.set(taskId, facts);
      if (remembered.size > maxRemembered) {
        const oldest = remembered.keys().next().value;
        if (oldest !== undefined) forget(oldest);
      }
    },
    forget,
    assignedTo(taskId, workerId) {
      if (closed) return undefined;
      const facts = remembered.get(taskId);
      return facts?.workerId === workerId ? facts : undefined;
    },
    hold(taskId, report) {
      const facts = remembered.get(taskId);
      if (!facts) return null;
      const entry = held.get(taskId) ?? { workerId: facts.workerId, logBytes: 0 };
      if (report.activity !== undefined) entry.activity = facts.activity = report.activity;
      if (report.progress !== undefined) entry.progress = facts.progress = report.progress;
      if (report.stepsDone !== undefined) entry.stepsDone = report.stepsDone;
      entry.logBytes += report.logBytes;
      held.set(taskId, entry);
      schedule();
      return {
        id: taskId,
        jobId: facts.jobId,
        index: facts.index,
        name: facts.name,
        type: facts.type,
        status: 'active',
        priority: facts.priority,
        worker: { id: facts.workerId, name: facts.workerName },
        progress: Math.min(1, Math.max(0, facts.progress)),
        activity: facts.activity,
        updated: new Date().toISOString(),
      };
    },
    take(taskId) {
      const entry = held.get(taskId);
      held.delete(taskId);
      return entry;
    },
    onEvent(event) {
      if (event.type === 'task-updated') {
        const facts = remembered.get(event.task.id);
        if (facts && (event.task.status !== 'active' || event.task.worker?.id !== facts.workerId)) {
          forget(event.task.id);
        }
      } else if (event.type === 'job-deleted') {
        for (const [taskId, facts] of remembered) {
          if (facts.jobId === event.jobId) forget(taskId);
        }
      }
    },
    flush: flushNow,
    async close() {
      closed = true;
      await flushNow();
    },
    get held() {
      return held.size;
    },
  };
}
