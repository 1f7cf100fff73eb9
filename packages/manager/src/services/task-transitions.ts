import { sql, type RawBuilder, type Transaction } from 'kysely';
import {
  CANCEL_REMAINING_FROM,
  rollUpJobStatus,
  TASK_STATUSES,
  type JobStatus,
  type TaskCounts,
  type TaskStatus,
} from '@farm/core';
import { TASK_COUNTER_COLUMNS, type Database, type JobRow } from '../db';

// Lock order, everywhere in the manager: a job's row first, then its tasks. Every task status
// change goes through `transitionTasks`, which takes the job lock before any task lock (in the
// same statement), so a worker report and a user's job action on the same job queue up behind
// each other instead of deadlocking.

/** Task statuses after which a task has finished running (its `finished_at` is set). */
const FINISHED_TASK_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'canceled'];

export interface TransitionTasksArgs {
  jobId: string;
  /** The tasks to move; omit to consider every task of the job. */
  taskIds?: readonly string[];
  /** Guard: only tasks currently in one of these statuses move (a task already in `to` does not). */
  from: readonly TaskStatus[];
  to: TaskStatus;
  /** The moved tasks' new activity line; unchanged when omitted. */
  activity?: string;
  /** Sets (a string) or clears (null) the assigned worker; when omitted, `queued` clears it. */
  workerId?: string | null;
  /** Forget which workers failed the moved tasks (deletes their `task_failures` rows). */
  clearFailures?: boolean;
}

export interface TransitionResult {
  moved: { id: string; previousStatus: TaskStatus }[];
  /**
   * Dependents moved along (transitively): canceled because a dependency failed or was canceled,
   * requeued because a failed or canceled dependency was requeued.
   */
  cascaded: { id: string; previousStatus: TaskStatus; status: TaskStatus }[];
}

function counterDeltas(to: TaskStatus): RawBuilder<unknown> {
  const assignments = TASK_STATUSES.map((status) => {
    const column = sql.ref(TASK_COUNTER_COLUMNS[status]);
    const entering = status === to ? sql`count(*)` : sql`0`;
    return sql`${column} = ${column} + (
      select (${entering} - count(*) filter (where m.previous_status = ${status}))::int from moved m
    )`;
  });
  return sql.join(assignments, sql`, `);
}

/**
 * Moves tasks of one job from any of `from` to `to`, keeping the job's per-status counters and
 * the dependents' `unmet_dependencies` in step, and returns what moved (with the status each had).
 * Must run inside a transaction; publish events only after it commits. Does not roll the job
 * status up: call `rollUpJob` after the last transition of the transaction.
 *
 * Entering `active` stamps `started_at` and `last_touched_at`; entering completed, failed or
 * canceled stamps `finished_at`; entering `queued` clears the worker (unless `workerId` is given),
 * the finish time and the progress.
 */
export async function transitionTasks(
  trx: Transaction<Database>,
  args: TransitionTasksArgs,
): Promise<TransitionResult> {
  const from = args.from.filter((status) => status !== args.to);
  if (from.length === 0 || (args.taskIds !== undefined && args.taskIds.length === 0)) {
    return { moved: [], cascaded: [] };
  }
  const to = args.to;
  const onlyIds =
    args.taskIds === undefined ? sql`` : sql`and t.id = any(${[...args.taskIds]}::uuid[])`;
  const workerId =
    args.workerId !== undefined
      ? sql`${args.workerId}::uuid`
      : to === 'queued'
        ? sql`null::uuid`
        : sql`t.worker_id`;
  const activity = args.activity !== undefined ? sql`${args.activity}` : sql`t.activity`;
  const startedAt = to === 'active' ? sql`now()` : sql`t.started_at`;
  const lastTouchedAt = to === 'active' ? sql`now()` : sql`t.last_touched_at`;
  const finishedAt = FINISHED_TASK_STATUSES.includes(to) ? sql`now()` : sql`null::timestamptz`;
  const restart = to === 'queued';
  const progress = restart ? sql`0` : sql`t.progress`;
  const stepsDone = restart ? sql`0` : sql`t.steps_done`;
  const failureCount = args.clearFailures === true ? sql`0` : sql`t.failure_count`;

  // One statement: the job row is locked first (the scalar sub-query is an InitPlan, evaluated
  // before the task scan), then the matching tasks; moved and counted rows are the same rows.
  const { rows } = await sql<{ id: string; previous_status: TaskStatus }>`
    with job as (
      select id from jobs where id = ${args.jobId} for no key update
    ),
    prev as (
      select t.id, t.status from tasks t
      where t.job_id = (select id from job)
        and t.status = any(${from}::text[]) ${onlyIds}
      order by t.id
      for no key update
    ),
    moved as (
      update tasks t set
        status = ${to},
        updated_at = now(),
        activity = ${activity},
        worker_id = ${workerId},
        started_at = ${startedAt},
        last_touched_at = ${lastTouchedAt},
        finished_at = ${finishedAt},
        progress = ${progress},
        steps_done = ${stepsDone},
        failure_count = ${failureCount}
      from prev
      where t.id = prev.id
      returning t.id, prev.status as previous_status
    ),
    counted as (
      update jobs set ${counterDeltas(to)}, updated_at = now()
      where id = (select id from job) and exists (select 1 from moved)
    )
    select id, previous_status from moved`.execute(trx);

  const moved = rows.map((row) => ({ id: row.id, previousStatus: row.previous_status }));
  if (moved.length === 0) return { moved, cascaded: [] };

  const ids = moved.map((task) => task.id);
  if (to === 'completed') {
    await adjustDependents(trx, ids, -1);
  } else {
    const leftCompleted = moved.filter((task) => task.previousStatus === 'completed');
    if (leftCompleted.length > 0) {
      await adjustDependents(
        trx,
        leftCompleted.map((task) => task.id),
        1,
      );
    }
  }
  if (args.clearFailures === true) {
    // One array parameter: a job-wide requeue can move more tasks than Postgres has parameters.
    await sql`delete from task_failures where task_id = any(${ids}::uuid[])`.execute(trx);
  }
  const cascaded = await cascadeToDependents(trx, args.jobId, moved, to);
  return { moved, cascaded };
}

/** Statuses of a dependent that waits for its dependencies (and so would wait forever). */
const WAITING_STATUSES: readonly TaskStatus[] = ['queued', 'soft-failed', 'paused'];

// Here rather than in a periodic duty: every status change passes through `transitionTasks`, so
// a dependent is canceled (or requeued) in the same transaction as its dependency, with no window
// in which the job looks runnable but cannot progress, and no scan of all waiting tasks.
async function cascadeToDependents(
  trx: Transaction<Database>,
  jobId: string,
  moved: TransitionResult['moved'],
  to: TaskStatus,
): Promise<TransitionResult['cascaded']> {
  let sources: string[];
  let dependentsIn: readonly TaskStatus[];
  let target: TaskStatus;
  if (to === 'failed' || to === 'canceled') {
    sources = moved.map((task) => task.id);
    dependentsIn = WAITING_STATUSES;
    target = 'canceled';
  } else if (to === 'queued') {
    sources = moved
      .filter((task) => task.previousStatus === 'failed' || task.previousStatus === 'canceled')
      .map((task) => task.id);
    dependentsIn = ['canceled'];
    target = 'queued';
  } else {
    return [];
  }
  if (sources.length === 0) return [];
  const { rows } = await sql<{ id: string; dependency: string }>`
    select distinct on (t.id) t.id, dep.name as dependency
    from task_dependencies d
    join tasks t on t.id = d.task_id
    join tasks dep on dep.id = d.depends_on_id
    where d.depends_on_id = any(${sources}::uuid[])
      and t.job_id = ${jobId}
      and t.status = any(${dependentsIn}::text[])
    order by t.id, dep.idx`.execute(trx);
  const byDependency = new Map<string, string[]>();
  for (const row of rows) {
    byDependency.set(row.dependency, [...(byDependency.get(row.dependency) ?? []), row.id]);
  }
  const cascaded: TransitionResult['cascaded'] = [];
  for (const [dependency, taskIds] of byDependency) {
    const activity =
      target === 'queued'
        ? `Requeued: dependency ${dependency} was requeued`
        : `Canceled: dependency ${dependency} ${to === 'failed' ? 'failed' : 'was canceled'}`;
    const result = await transitionTasks(trx, {
      jobId,
      taskIds,
      from: dependentsIn,
      to: target,
      activity,
    });
    for (const task of result.moved) cascaded.push({ ...task, status: target });
    cascaded.push(...result.cascaded);
  }
  return cascaded;
}

/** Dependents of `ids` get `sign` added to `unmet_dependencies` once per dependency in `ids`. */
async function adjustDependents(
  trx: Transaction<Database>,
  ids: readonly string[],
  sign: 1 | -1,
): Promise<void> {
  await sql`
    update tasks t set unmet_dependencies = t.unmet_dependencies + ${sign}::int * d.n
    from (
      select task_id, count(*)::int as n from task_dependencies
      where depends_on_id = any(${[...ids]}::uuid[])
      group by task_id
    ) d
    where t.id = d.task_id`.execute(trx);
}

/** The job's per-status task counters as core's `TaskCounts`. */
export function jobTaskCounts(job: JobRow): TaskCounts {
  return {
    queued: job.tasks_queued,
    active: job.tasks_active,
    completed: job.tasks_completed,
    'soft-failed': job.tasks_soft_failed,
    failed: job.tasks_failed,
    canceled: job.tasks_canceled,
    paused: job.tasks_paused,
  };
}

export interface RollUpJobResult {
  /** The job row after the roll-up. */
  job: JobRow;
  /** The status before the roll-up. */
  previousStatus: JobStatus;
  /** How many tasks the roll-up canceled (leftovers of a failed or canceled job). */
  canceledTasks: number;
  /** The ids of those tasks. */
  canceledTaskIds: string[];
  /** Those tasks with the status each had. */
  canceled: { id: string; previousStatus: TaskStatus }[];
}

/**
 * Applies core's `rollUpJobStatus` to the job's counters (locking the job row): writes the new
 * status with the reason as its activity, and cancels the leftover tasks when the rules say so.
 * Call it in the same transaction as the task transitions it follows.
 */
export async function rollUpJob(
  trx: Transaction<Database>,
  jobId: string,
  /** The job row as it is now, when the caller holds its lock and knows it (no read then). */
  current?: JobRow,
): Promise<RollUpJobResult> {
  let job =
    current ??
    (await trx
      .selectFrom('jobs')
      .selectAll()
      .where('id', '=', jobId)
      .forNoKeyUpdate()
      .executeTakeFirstOrThrow());
  const previousStatus = job.status;
  const canceled: RollUpJobResult['canceled'] = [];
  // A second pass only when leftovers were canceled: the result must hold on the counts as they
  // are now, not only on the counts core predicted.
  for (let pass = 0; pass < 2; pass += 1) {
    const result = rollUpJobStatus({
      status: job.status,
      counts: jobTaskCounts(job),
      failureThresholdPercent: job.failure_threshold_percent,
    });
    if (result.cancelRemaining) {
      const { moved, cascaded } = await transitionTasks(trx, {
        jobId,
        from: CANCEL_REMAINING_FROM,
        to: 'canceled',
        activity: `Canceled by the manager: ${result.reason ?? 'the job ended'}`,
      });
      canceled.push(...moved);
      for (const task of cascaded)
        canceled.push({ id: task.id, previousStatus: task.previousStatus });
    }
    if (result.status !== job.status || result.cancelRemaining) {
      job = await trx
        .updateTable('jobs')
        .set({
          status: result.status,
          ...(result.status !== job.status && result.reason !== undefined
            ? { activity: `Changed to ${result.status}: ${result.reason}` }
            : {}),
          updated_at: sql<Date>`now()`,
        })
        .where('id', '=', jobId)
        .where('status', '=', job.status)
        .returningAll()
        .executeTakeFirstOrThrow();
    }
    if (!result.cancelRemaining) break;
  }
  return {
    job,
    previousStatus,
    canceledTasks: canceled.length,
    canceledTaskIds: canceled.map((task) => task.id),
    canceled,
  };
}
