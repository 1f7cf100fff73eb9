import type {
  ApiWorkerStatusRequest,
  HostStats,
  Platform,
  SleepSchedule,
  Worker,
  WorkerSummary,
} from '@farm/core';
import type { SleepScheduleRow } from '../../db';
import {
  findSleepSchedule,
  findWorkerWithTask,
  workerNotFound,
  type WorkerWithTaskRow,
} from '../../db/queries/workers';
import type { ServiceContext } from '../service-context';

/** The API `WorkerSummary` of a row; the one place workers are turned into summaries. */
export function toWorkerSummary(row: WorkerWithTaskRow): WorkerSummary {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    statusRequest:
      row.status_requested === null
        ? null
        : {
            status: row.status_requested as ApiWorkerStatusRequest,
            lazy: row.status_requested_lazy,
          },
    platform: row.platform as Platform,
    version: row.version,
    lastSeen: row.last_seen_at === null ? null : row.last_seen_at.toISOString(),
    currentTask:
      row.current_task_id === null
        ? null
        : {
            id: row.current_task_id,
            jobId: row.current_task_job_id as string,
            name: row.current_task_name as string,
          },
    busy: row.current_task_id !== null,
    tags: row.tags,
  };
}

/** The API `SleepSchedule` of a row. */
export function toSleepSchedule(row: SleepScheduleRow): SleepSchedule {
  return {
    isActive: row.is_active,
    daysOfWeek: row.days_of_week as SleepSchedule['daysOfWeek'],
    startTime: row.start_time,
    endTime: row.end_time,
    timeZone: row.time_zone,
  };
}

/** The full API `Worker`. */
export function toWorker(row: WorkerWithTaskRow, schedule: SleepScheduleRow | undefined): Worker {
  return {
    ...toWorkerSummary(row),
    taskTypes: row.task_types,
    address: row.address,
    hostStats: (row.host_stats as HostStats | null) ?? null,
    sleepSchedule: schedule ? toSleepSchedule(schedule) : null,
    created: row.created_at.toISOString(),
  };
}

/**
 * Publishes `worker-updated` for a worker as it is now (call after the change committed). Errors
 * are logged, never thrown: the change itself succeeded.
 */
export async function publishWorker(
  ctx: ServiceContext,
  workerId: string,
  previousStatus?: WorkerSummary['status'],
): Promise<void> {
  try {
    const row = await findWorkerWithTask(ctx.db, workerId);
    if (!row) return;
    ctx.publish({
      type: 'worker-updated',
      worker: toWorkerSummary(row),
      ...(previousStatus !== undefined && previousStatus !== row.status ? { previousStatus } : {}),
    });
  } catch (error) {
    ctx.logger.warn('could not publish a worker update', {
      workerId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/**
 * Publishes `worker-stats` with the host stats a worker just sent. It carries only what the worker
 * said, so it costs no database read: heartbeats are the most frequent thing a fleet does.
 */
export function publishWorkerStats(
  ctx: ServiceContext,
  workerId: string,
  hostStats: HostStats | undefined,
): void {
  if (hostStats) ctx.publish({ type: 'worker-stats', workerId, hostStats });
}

/** One worker with its schedule; throws `not_found`. */
export async function getWorker(ctx: ServiceContext, workerId: string): Promise<Worker> {
  const [row, schedule] = await Promise.all([
    findWorkerWithTask(ctx.db, workerId),
    findSleepSchedule(ctx.db, workerId),
  ]);
  if (!row) throw workerNotFound(workerId);
  return toWorker(row, schedule);
}
