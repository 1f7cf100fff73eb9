import { sql, type Transaction } from 'kysely';
import {
  CANCEL_REMAINING_FROM,
  decideWorkerTaskUpdate,
  FarmError,
  isRunnableTaskStatus,
  shouldStopCurrentTask,
  type MayKeepRunning,
  type TaskStatus,
  type TaskUpdate,
  type WorkerRequestedStatus,
} from '@farm/core';
import type { Database, JobRow, TaskRow } from '../../db';
import { lockJob } from '../../db/queries/jobs';
import { taskNotFound, toApiTaskSummary } from '../../db/queries/tasks';
import { countCapableWorkers, touchWorkerSeen } from '../../db/queries/workers';
import type { WorkerPrincipal } from '../../http/principal';
import type { ServiceContext } from '../service-context';
import { rollUpJob, transitionTasks } from '../task-transitions';
import { createGroupCommit, type GroupCommit } from './group-commit';
import { createKeyedSerializer } from './keyed-serializer';
import { applyCompletions, applyProgressReports, type TaskReport } from './report-batches';
import { countLogBytes, logText, managerLog, writeLogs, type PendingLog } from './task-log-lines';
import { publishOutcome, readOutcome } from './task-outcome';
import { explainRefusal, taskConflict } from './task-refusals';
import type { WorkerChannels } from './worker-deps';

export { taskConflict };

const serializer = createKeyedSerializer();

interface ReportBatches {
  progress: GroupCommit<TaskReport, null>;
  completions: GroupCommit<TaskReport, null>;
}

// One pair of group commits per context: the worker handlers of a manager share one context (its
// logs, events and wake-ups are the ones a batch must use), tests make one per test.
const batchesByContext = new WeakMap<ServiceContext, ReportBatches>();

function batchesFor(ctx: ServiceContext): ReportBatches {
  let batches = batchesByContext.get(ctx);
  if (!batches) {
    batches = {
      progress: createGroupCommit((reports) => applyProgressReports(ctx, reports)),
      completions: createGroupCommit((reports) => applyCompletions(ctx, reports)),
    };
    batchesByContext.set(ctx, batches);
  }
  return batches;
}

/**
 * Runs a report in the next group commit; when the whole batch fails (a deadlock, a bad id that
 * broke the statement), the report is applied alone, so one bad report cannot fail the others.
 * A refusal of this report (404/409) is its own answer.
 */
async function inBatch(
  batch: GroupCommit<TaskReport, null>,
  report: TaskReport,
  alone: () => Promise<void>,
): Promise<void> {
  try {
    await batch.submit(report);
  } catch (error) {
    if (error instanceof FarmError) throw error;
    await alone();
  }
}

/**
 * Applies a worker's report on one of its tasks: activity, progress, steps, log text, and a
 * status (`completed`, `failed`; `active` is a plain progress report). Only the worker the task
 * is assigned to may report, and only while the task is active: otherwise 409 `conflict` with
 * `details.reason` (`not-your-task`, `task-not-active`) and nothing changes. Updates of one task
 * are applied in arrival order.
 *
 * Cost: reports are group-committed (`report-batches.ts`): progress reports arriving together
 * are one statement, completions arriving together one transaction with one job lock, counter
 * update and roll-up per job; the caller is answered after its batch commits. A failure is one
 * transaction of its own (job lock, task lock, failure rules, transition, roll-up).
 */
export function updateTask(
  ctx: ServiceContext & Pick<WorkerChannels, 'progress'>,
  worker: WorkerPrincipal,
  taskId: string,
  update: TaskUpdate,
): Promise<void> {
  return serializer.run(taskId, async () => {
    const progress = ctx.progress;
    if (update.status === undefined || update.status === 'active') {
      if (progress?.assignedTo(taskId, worker.workerId)) {
        await holdProgress(ctx, progress, worker, taskId, update);
        return;
      }
      const report: TaskReport = { worker, taskId, update };
      return inBatch(batchesFor(ctx).progress, report, () =>
        reportProgress(ctx, worker, taskId, update),
      );
    }
    // The end of the task takes its held progress along (steps, log bytes); the end itself is
    // always decided by the database.
    const held = progress?.take(taskId);
    progress?.forget(taskId);
    const ending: TaskUpdate =
      held?.stepsDone !== undefined && update.stepsDone === undefined
        ? { ...update, stepsDone: held.stepsDone }
        : update;
    if (update.status === 'completed') {
      const report: TaskReport = { worker, taskId, update: ending, heldLogBytes: held?.logBytes };
      return inBatch(batchesFor(ctx).completions, report, () =>
        reportEnd(ctx, worker, taskId, ending, 'completed'),
      );
    }
    return reportEnd(ctx, worker, taskId, ending, update.status);
  });
}

/** A progress report of a task this replica handed to this worker: held in memory. */
async function holdProgress(
  ctx: ServiceContext,
  progress: NonNullable<WorkerChannels['progress']>,
  worker: WorkerPrincipal,
  taskId: string,
  update: TaskUpdate,
): Promise<void> {
  const log = update.log ? logText(update.log) : null;
  const summary = progress.hold(taskId, {
    activity: update.activity,
    progress: update.progress,
    stepsDone: update.stepsDone,
    logBytes: log === null ? 0 : Buffer.byteLength(log),
  });
  if (!summary) return;
  if (log !== null) await writeLogs(ctx, [{ jobId: summary.jobId, taskId, text: log }]);
  if (update.activity !== undefined || update.progress !== undefined) {
    ctx.publish({ type: 'task-updated', jobId: summary.jobId, task: summary });
  }
}

/**
 * The manager fails a task on behalf of its silent worker (the task timeout): the same failure
 * rules as a worker's own `failed` report (failure list, soft/hard fail, blocklist), but only if
 * the task is still active on that worker and untouched since `untouchedSince`, and without
 * counting as a sign of life of the worker. Resolves false when the task had moved on.
 */
export function failTaskForSilentWorker(
  ctx: ServiceContext,
  worker: WorkerPrincipal,
  taskId: string,
  update: Pick<TaskUpdate, 'activity' | 'failureReason'>,
  untouchedSince: Date,
): Promise<boolean> {
  return serializer.run(taskId, async () => {
    try {
      await reportEnd(ctx, worker, taskId, { ...update, status: 'failed' }, 'failed', {
        untouchedSince,
      });
      return true;
    } catch (error) {
      if (error instanceof FarmError && error.code === 'conflict') return false;
      throw error;
    }
  });
}

async function reportProgress(
  ctx: ServiceContext,
  worker: WorkerPrincipal,
  taskId: string,
  update: TaskUpdate,
): Promise<void> {
  const log = update.log ? logText(update.log) : null;
  const logBytes = log === null ? 0 : Buffer.byteLength(log);
  // One statement: the guarded task update and the (throttled) worker touch.
  const { rows } = await sql<TaskRow>`
    with seen as (
      update workers set last_seen_at = now()
      where id = ${worker.workerId}
        and (last_seen_at is null or last_seen_at < now() - interval '5 seconds')
    )
    update tasks set
      activity = coalesce(${update.activity ?? null}::text, activity),
      progress = coalesce(${update.progress ?? null}::real, progress),
      steps_done = coalesce(${update.stepsDone ?? null}::int, steps_done),
      log_size = log_size + ${logBytes}::bigint,
      last_touched_at = now(),
      updated_at = now()
    where id = ${taskId} and worker_id = ${worker.workerId} and status = 'active'
    returning *`.execute(ctx.db);
  const row = rows[0];
  if (!row) throw await explainRefusal(ctx.db, worker, taskId);
  if (log !== null) await writeLogs(ctx, [{ jobId: row.job_id, taskId, text: log }]);
  if (update.activity !== undefined || update.progress !== undefined) {
    ctx.publish({
      type: 'task-updated',
      jobId: row.job_id,
      task: toApiTaskSummary(row, worker.name),
    });
  }
}

interface FailureEffects {
  /** The status the failed task ends in (may be hardened to `failed` when nobody is left). */
  status: TaskStatus;
  /** Other tasks moved (a blocklisted worker's failed tasks requeued, a failed job's leftovers). */
  moved: { id: string; previousStatus: TaskStatus }[];
  logs: PendingLog[];
}

async function reportEnd(
  ctx: ServiceContext,
  worker: WorkerPrincipal,
  taskId: string,
  update: TaskUpdate,
  reported: 'completed' | 'failed',
  timeout?: { untouchedSince: Date },
): Promise<void> {
  const owner = await ctx.db
    .selectFrom('tasks')
    .select('job_id')
    .where('id', '=', taskId)
    .executeTakeFirst();
  if (!owner) throw taskNotFound(taskId);
  const jobId = owner.job_id;
  const logs: PendingLog[] = [];
  if (update.log) logs.push({ jobId, taskId, text: logText(update.log) });

  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const job = await lockJob(trx, jobId);
    const task = await trx
      .selectFrom('tasks')
      .selectAll()
      .where('id', '=', taskId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (
      timeout &&
      task.last_touched_at !== null &&
      task.last_touched_at.getTime() > timeout.untouchedSince.getTime()
    ) {
      throw taskConflict('task-not-active', `task ${taskId} was updated; it did not time out`);
    }
    let failedByWorkers: number | undefined;
    if (reported === 'failed') {
      const { rows } = await sql<{ n: number; mine: boolean }>`
        select count(*)::int as n, coalesce(bool_or(worker_id = ${worker.workerId}), false) as mine
        from task_failures where task_id = ${taskId}`.execute(trx);
      failedByWorkers = (rows[0]?.n ?? 0) + (rows[0]?.mine ? 0 : 1);
    }
    const decision = decideWorkerTaskUpdate({
      current: task.status,
      reported,
      assignedToWorker: task.worker_id === worker.workerId,
      jobStatus: job.status,
      failedByWorkers,
      hardFailAfter: job.max_task_failures,
    });
    if (!decision.accept) {
      throw task.worker_id !== worker.workerId
        ? taskConflict('not-your-task', `task ${taskId} is not assigned to this worker`)
        : taskConflict('task-not-active', `task ${taskId}: ${decision.reason}`);
    }
    const reason = update.failureReason ? `: ${update.failureReason}` : '';
    const activity =
      update.activity ??
      (reported === 'completed' ? 'Completed' : `Failed on worker ${worker.name}${reason}`);
    let effects: FailureEffects = { status: decision.status, moved: [], logs: [] };
    if (decision.recordFailure) {
      effects = await recordFailure(trx, job, task, worker, decision.status, update, {
        blocklistForgiveTimeMs: ctx.config.blocklistForgiveTimeMs,
      });
    }
    logs.push(
      managerLog(
        jobId,
        taskId,
        reported === 'completed'
          ? `Task completed by worker ${worker.name}`
          : `Task failed on worker ${worker.name}${reason}; it is now ${effects.status}` +
              (effects.status === 'soft-failed'
                ? ` (failed by ${failedByWorkers} of ${job.max_task_failures} workers allowed)`
                : ''),
      ),
    );
    logs.push(...effects.logs);
    const { moved, cascaded } = await transitionTasks(trx, {
      jobId,
      taskIds: [taskId],
      from: ['active'],
      to: effects.status,
      activity,
    });
    // One statement for the rest: progress, the log bytes and the touch; its RETURNING is the
    // row the task-updated event shows. The worker's row is touched after the commit: the claim
    // statement locks it before a job row, so locking it here, after the job, could deadlock
    // with a claim the same worker sends at the same time.
    const ended = !isRunnableTaskStatus(effects.status);
    const progress = reported === 'completed' ? 1 : ended ? (update.progress ?? null) : null;
    const ownBytes = logs
      .filter((log) => log.taskId === taskId)
      .reduce((sum, log) => sum + Buffer.byteLength(log.text), 0);
    const { rows } = await sql<TaskRow>`
      update tasks set
        progress = coalesce(${progress}::real, progress),
        steps_done = coalesce(${ended ? (update.stepsDone ?? null) : null}::int, steps_done),
        log_size = log_size + ${ownBytes}::bigint,
        last_touched_at = now()
      where id = ${taskId}
      returning *`.execute(trx);
    await countLogBytes(
      trx,
      logs.filter((log) => log.taskId !== taskId),
    );
    const rolled = await rollUpJob(trx, jobId);
    const final = rows[0]!;
    return readOutcome(trx, jobId, [...moved, ...cascaded, ...effects.moved], rolled, [
      {
        row: final,
        workerName: final.worker_id === worker.workerId ? worker.name : null,
        previousStatus: 'active',
      },
    ]);
  });

  // A timeout is the manager speaking, not a sign of life of the worker.
  if (!timeout) await touchWorkerSeen(ctx.db, worker.workerId);
  await writeLogs(ctx, logs);
  publishOutcome(ctx, outcome);
  if (outcome.tasks.some((t) => isRunnableTaskStatus(t.summary.status))) ctx.wakeWorkers();
  // A completion can unblock dependents or free a max_workers slot.
  if (reported === 'completed') ctx.wakeWorkers();
}

/**
 * The failure rules, inside the report's transaction (job and task locked): record the worker on
 * the task's failure list; blocklist it for (job, task type) once it failed `blocklist_threshold`
 * tasks of that type in this job (counting this failure once: Flamenco added one more and blocked
 * a failure early) and requeue the tasks it failed there; and when no capable worker is left for
 * the task, fail the task and the job with that reason.
 */
async function recordFailure(
  trx: Transaction<Database>,
  job: JobRow,
  task: TaskRow,
  worker: WorkerPrincipal,
  decided: TaskStatus,
  update: TaskUpdate,
  options: { blocklistForgiveTimeMs: number },
): Promise<FailureEffects> {
  const logs: PendingLog[] = [];
  const moved: FailureEffects['moved'] = [];
  let status = decided;
  await trx
    .insertInto('task_failures')
    .values({ task_id: task.id, worker_id: worker.workerId, reason: update.failureReason ?? '' })
    .onConflict((oc) => oc.columns(['task_id', 'worker_id']).doNothing())
    .execute();
  await trx
    .updateTable('tasks')
    .set((eb) => ({ failure_count: eb('failure_count', '+', 1) }))
    .where('id', '=', task.id)
    .execute();

  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from task_failures f join tasks t on t.id = f.task_id
    where f.worker_id = ${worker.workerId} and t.job_id = ${job.id} and t.type = ${task.type}`.execute(
    trx,
  );
  const failuresHere = rows[0]?.n ?? 0;
  let blocklisted = false;
  if (failuresHere >= job.blocklist_threshold) {
    // Entries expire after the forgive time; an expired entry is renewed by the next failure
    // (the worker's earlier failures still count, so one more strike blocks it again).
    const expiresAt =
      options.blocklistForgiveTimeMs > 0
        ? sql<Date>`now() + ${options.blocklistForgiveTimeMs}::double precision * interval '1 millisecond'`
        : null;
    const reason = `failed ${failuresHere} ${task.type} tasks of this job`;
    const inserted = await trx
      .insertInto('job_blocklist')
      .values({
        job_id: job.id,
        worker_id: worker.workerId,
        task_type: task.type,
        reason,
        expires_at: expiresAt,
      })
      .onConflict((oc) =>
        oc
          .columns(['job_id', 'worker_id', 'task_type'])
          .doUpdateSet({ reason, expires_at: expiresAt, created_at: sql<Date>`now()` })
          .where('job_blocklist.expires_at', '<=', sql<Date>`now()`),
      )
      .returning('worker_id')
      .execute();
    blocklisted = inserted.length > 0;
  }
  if (blocklisted) {
    // The worker may be what is broken: the tasks it hard-failed here get another chance on
    // other workers. (The task being reported is still active; its own status is decided below.)
    const failedHere = await trx
      .selectFrom('tasks as t')
      .innerJoin('task_failures as f', 'f.task_id', 't.id')
      .select('t.id')
      .where('f.worker_id', '=', worker.workerId)
      .where('t.job_id', '=', job.id)
      .where('t.type', '=', task.type)
      .where('t.status', '=', 'failed')
      .execute();
    const activity = `Requeued: worker ${worker.name} was blocklisted for ${task.type} tasks of this job`;
    const requeued = await transitionTasks(trx, {
      jobId: job.id,
      taskIds: failedHere.map((row) => row.id),
      from: ['failed'],
      to: 'queued',
      activity,
    });
    moved.push(...requeued.moved, ...requeued.cascaded);
    for (const each of requeued.moved) logs.push(managerLog(job.id, each.id, activity));
    logs.push(
      managerLog(
        job.id,
        task.id,
        `Worker ${worker.name} failed ${failuresHere} ${task.type} tasks of this job and is blocklisted for them`,
      ),
    );
    if (status === 'failed') status = 'queued';
  }

  if (isRunnableTaskStatus(status)) {
    const capable = await countCapableWorkers(trx, {
      jobId: job.id,
      taskId: task.id,
      taskType: task.type,
    });
    if (capable === 0) {
      const reason = `no more workers left to run tasks of type ${task.type}`;
      status = 'failed';
      logs.push(managerLog(job.id, task.id, `The job fails: ${reason}`));
      // Leftovers first: a failed job with runnable tasks would be reopened by the roll-up.
      await trx
        .updateTable('jobs')
        .set({ status: 'failed', activity: `Failed: ${reason}`, updated_at: new Date() })
        .where('id', '=', job.id)
        .execute();
      const canceled = await transitionTasks(trx, {
        jobId: job.id,
        from: [...CANCEL_REMAINING_FROM],
        to: 'canceled',
        activity: `Canceled by the manager: ${reason}`,
      });
      moved.push(
        ...[...canceled.moved, ...canceled.cascaded].filter((each) => each.id !== task.id),
      );
    }
  }
  return { status, moved, logs };
}

/**
 * Whether the worker may keep running the task: no when the task is no longer active on it (a
 * person canceled, paused or requeued it) or when an immediate status change is pending; a lazy
 * request lets the task finish. Answering yes also counts as a sign of life for the task.
 */
export async function mayIRun(
  ctx: ServiceContext,
  worker: WorkerPrincipal,
  taskId: string,
): Promise<MayKeepRunning> {
  const { rows } = await sql<{
    status: TaskStatus;
    worker_id: string | null;
    status_requested: string | null;
    status_requested_lazy: boolean;
    touched: boolean;
  }>`
    with touched as (
      update tasks set last_touched_at = now()
      where id = ${taskId} and worker_id = ${worker.workerId} and status = 'active'
      returning id
    ),
    seen as (
      update workers set last_seen_at = now()
      where id = ${worker.workerId}
        and (last_seen_at is null or last_seen_at < now() - interval '5 seconds')
    )
    select t.status, t.worker_id, w.status_requested, w.status_requested_lazy,
      exists (select 1 from touched) as touched
    from tasks t cross join workers w
    where t.id = ${taskId} and w.id = ${worker.workerId}`.execute(ctx.db);
  const row = rows[0];
  if (!row) throw taskNotFound(taskId);
  const request =
    row.status_requested === null
      ? null
      : { status: row.status_requested as WorkerRequestedStatus, lazy: row.status_requested_lazy };
  const statusChangeRequested = request !== null;
  if (!row.touched) {
    return {
      mayKeepRunning: false,
      statusChangeRequested,
      reason:
        row.worker_id !== worker.workerId
          ? 'the task is no longer assigned to this worker'
          : `the task is ${row.status}`,
    };
  }
  if (shouldStopCurrentTask(request)) {
    return {
      mayKeepRunning: false,
      statusChangeRequested,
      reason: `the worker was asked to go ${request!.status} now`,
    };
  }
  return { mayKeepRunning: true, statusChangeRequested };
}
