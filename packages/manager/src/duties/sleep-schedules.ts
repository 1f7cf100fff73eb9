import { requestWorkerStatus } from '../services/workers/worker-admin';
import type { WorkerServiceContext } from '../services/workers/worker-deps';
import { scheduledStatus } from '../services/workers/sleep-schedule';

/** What one run of the sleep-schedule duty asked of workers. */
export interface AppliedSchedule {
  workerId: string;
  status: 'asleep' | 'awake';
}

/**
 * Applies active sleep schedules: when the status a schedule wants changes (a window opens or
 * closes) or the schedule was just set, the worker gets an immediate request for it, unless it is
 * already in that status with nothing pending or already has that immediate request. Between
 * those moments a person's request stands. Workers in `error` are skipped (and get their schedule
 * once they recover). `now` is for tests.
 */
export async function applySleepSchedules(
  ctx: WorkerServiceContext,
  now: Date = new Date(),
): Promise<AppliedSchedule[]> {
  const rows = await ctx.db
    .selectFrom('sleep_schedules as s')
    .innerJoin('workers as w', 'w.id', 's.worker_id')
    .select([
      's.worker_id',
      's.days_of_week',
      's.start_time',
      's.end_time',
      's.time_zone',
      's.next_check_at',
      's.applied_status',
      'w.status',
      'w.status_requested',
      'w.status_requested_lazy',
    ])
    .where('s.is_active', '=', true)
    .execute();
  const applied: AppliedSchedule[] = [];
  for (const row of rows) {
    if (row.status === 'error') continue;
    let wanted: 'asleep' | 'awake' | null;
    try {
      wanted = scheduledStatus(
        {
          isActive: true,
          daysOfWeek: row.days_of_week as never,
          startTime: row.start_time,
          endTime: row.end_time,
          timeZone: row.time_zone,
        },
        now,
      );
    } catch (error) {
      ctx.logger.warn('sleep schedule cannot be applied', {
        workerId: row.worker_id,
        error: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    if (wanted === null) continue;
    const freshSchedule = row.next_check_at === null;
    if (!freshSchedule && row.applied_status === wanted) continue;
    const alreadyThere =
      (row.status === wanted && row.status_requested === null) ||
      (row.status_requested === wanted && !row.status_requested_lazy);
    try {
      if (!alreadyThere) {
        await requestWorkerStatus(ctx, row.worker_id, { status: wanted, lazy: false });
        applied.push({ workerId: row.worker_id, status: wanted });
        ctx.logger.info('sleep schedule applied', { workerId: row.worker_id, status: wanted });
      }
      await ctx.db
        .updateTable('sleep_schedules')
        .set({ applied_status: wanted, next_check_at: now })
        .where('worker_id', '=', row.worker_id)
        .execute();
    } catch (error) {
      ctx.logger.warn('could not apply a sleep schedule', {
        workerId: row.worker_id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return applied;
}
