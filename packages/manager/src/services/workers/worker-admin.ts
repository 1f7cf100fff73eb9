import { sql } from 'kysely';
import {
  FarmError,
  shouldStopCurrentTask,
  type SleepSchedule,
  type Worker,
  type WorkerList,
  type WorkerStatusChange,
  type ApiWorkerStatus,
} from '@farm/core';
import {
  findActiveTasksOfWorker,
  findSleepSchedule,
  findWorker,
  selectWorkersWithTask,
  workerNotFound,
} from '../../db/queries/workers';
import { handBackWorkerTasks } from './hand-back-tasks';
import { validateSleepSchedule } from './sleep-schedule';
import type { WorkerServiceContext } from './worker-deps';
import { getWorker, publishWorker, toSleepSchedule, toWorkerSummary } from './worker-view';

/** Every worker (optionally only some statuses), sorted by name, with its current task. */
export async function listWorkers(
  ctx: WorkerServiceContext,
  query: { status?: readonly ApiWorkerStatus[] } = {},
): Promise<WorkerList> {
  let select = selectWorkersWithTask(ctx.db).orderBy('w.name').orderBy('w.id');
  if (query.status && query.status.length > 0)
    select = select.where('w.status', 'in', [...query.status]);
  const rows = await select.execute();
  return { items: rows.map(toWorkerSummary) };
}

/**
 * A person asks a worker to change status. Asking for the status it already has clears any
 * pending request. An immediate request reaches a connected worker at once (`status-request`,
 * and `stop-task` for its running task when the request stops work, which is handed back to the
 * queue); a lazy one waits for the current task to end (claims answer 423 with it until then).
 */
export async function requestWorkerStatus(
  ctx: WorkerServiceContext,
  workerId: string,
  change: WorkerStatusChange,
): Promise<Worker> {
  const previous = await findWorker(ctx.db, workerId);
  if (!previous) throw workerNotFound(workerId);
  const already = previous.status === change.status && previous.status_requested === null;
  await ctx.db
    .updateTable('workers')
    .set(
      previous.status === change.status
        ? { status_requested: null, status_requested_lazy: false, updated_at: new Date() }
        : {
            status_requested: change.status,
            status_requested_lazy: change.lazy,
            updated_at: new Date(),
          },
    )
    .where('id', '=', workerId)
    .execute();
  if (!already && previous.status !== change.status) {
    ctx.pushToWorker(workerId, {
      type: 'status-request',
      status: change.status,
      lazy: change.lazy,
    });
    if (change.status === 'awake') ctx.wakeups.wake(workerId);
    if (shouldStopCurrentTask(change)) {
      const reason = `Worker ${previous.name} was asked to go ${change.status} now`;
      const active = await findActiveTasksOfWorker(ctx.db, workerId);
      for (const task of active)
        ctx.pushToWorker(workerId, { type: 'stop-task', taskId: task.id, reason });
      await handBackWorkerTasks(ctx, { id: workerId, name: previous.name }, reason);
    }
  }
  await publishWorker(ctx, workerId);
  return getWorker(ctx, workerId);
}

/** Replaces a worker's tags. */
export async function setWorkerTags(
  ctx: WorkerServiceContext,
  workerId: string,
  tags: readonly string[],
): Promise<Worker> {
  const updated = await ctx.db
    .updateTable('workers')
    .set({ tags: [...new Set(tags)], updated_at: new Date() })
    .where('id', '=', workerId)
    .returning('id')
    .executeTakeFirst();
  if (!updated) throw workerNotFound(workerId);
  await publishWorker(ctx, workerId);
  // New tags may make jobs with required tags eligible.
  ctx.wakeups.wake(workerId);
  ctx.pushToWorker(workerId, { type: 'work-available' });
  return getWorker(ctx, workerId);
}

/** A worker's sleep schedule, or null when it has none. */
export async function getWorkerSleepSchedule(
  ctx: WorkerServiceContext,
  workerId: string,
): Promise<SleepSchedule | null> {
  const [worker, schedule] = await Promise.all([
    findWorker(ctx.db, workerId),
    findSleepSchedule(ctx.db, workerId),
  ]);
  if (!worker) throw workerNotFound(workerId);
  return schedule ? toSleepSchedule(schedule) : null;
}

/**
 * Sets a worker's sleep schedule (validated: HH:MM times, an IANA zone; an end before the start
 * spans midnight). The periodic sleep scheduler applies it; `next_check_at` is cleared so it does
 * at its next run.
 */
export async function setWorkerSleepSchedule(
  ctx: WorkerServiceContext,
  workerId: string,
  schedule: SleepSchedule,
): Promise<SleepSchedule> {
  validateSleepSchedule(schedule);
  if (!(await findWorker(ctx.db, workerId))) throw workerNotFound(workerId);
  const values = {
    is_active: schedule.isActive,
    days_of_week: [...new Set(schedule.daysOfWeek)],
    start_time: schedule.startTime,
    end_time: schedule.endTime,
    time_zone: schedule.timeZone,
    next_check_at: null,
    updated_at: new Date(),
  };
  const row = await ctx.db
    .insertInto('sleep_schedules')
    .values({ worker_id: workerId, ...values })
    .onConflict((oc) => oc.column('worker_id').doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSleepSchedule(row);
}

/** Removes a worker's sleep schedule (no error when there is none). */
export async function deleteWorkerSleepSchedule(
  ctx: WorkerServiceContext,
  workerId: string,
): Promise<void> {
  if (!(await findWorker(ctx.db, workerId))) throw workerNotFound(workerId);
  await ctx.db.deleteFrom('sleep_schedules').where('worker_id', '=', workerId).execute();
}

/**
 * Forgets a worker that is `offline` or `error`; its token stops working. Others answer 409
 * `conflict` (`worker-not-offline`): a running worker would come back as a stranger.
 */
export async function deleteWorker(ctx: WorkerServiceContext, workerId: string): Promise<void> {
  const { rows } = await sql<{ id: string }>`
    delete from workers where id = ${workerId} and status in ('offline', 'error') returning id`.execute(
    ctx.db,
  );
  if (rows.length === 0) {
    const worker = await findWorker(ctx.db, workerId);
    if (!worker) throw workerNotFound(workerId);
    throw new FarmError(
      'conflict',
      `worker ${worker.name} is ${worker.status}; only offline or error workers can be deleted`,
      { details: { reason: 'worker-not-offline' } },
    );
  }
  ctx.publish({ type: 'worker-deleted', workerId });
}
