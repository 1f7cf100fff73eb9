import { refreshWaitingJobs } from '../services/jobs/job-dependencies';
import { fireDueSchedules } from '../services/schedules/fire-due-schedules';
import type { ServiceContext } from '../services/service-context';
import { DUTY_LOCK_KEYS, type Duty } from './run-duties';

const MINUTE_MS = 60_000;
// Cron expressions are minute-grained (or second-grained with six fields): a run fires within
// this long of its moment.
const SCHEDULE_TICK_MS = 5_000;

/**
 * The duties of issue 10: firing due schedules (every `duty_interval`, at most 5 s apart, first
 * soon after start so runs missed while the manager was down fire at once), and the backstop of
 * job dependencies (every minute, first at once): waiting jobs are normally released by the
 * completion event of their last dependency; this catches a missed event or a deleted dependency.
 */
export function scheduleDuties(ctx: ServiceContext): Duty[] {
  const every = Math.max(ctx.config.dutyIntervalMs, 100);
  return [
    {
      name: 'schedules',
      lockKey: DUTY_LOCK_KEYS.schedules,
      intervalMs: Math.min(every, SCHEDULE_TICK_MS),
      firstRunAfterMs: Math.min(every, SCHEDULE_TICK_MS),
      tick: () => fireDueSchedules(ctx),
    },
    {
      name: 'waiting-jobs',
      lockKey: DUTY_LOCK_KEYS.waitingJobs,
      intervalMs: Math.min(Math.max(every, 10_000), MINUTE_MS),
      firstRunAfterMs: 0,
      tick: () => refreshWaitingJobs(ctx),
    },
  ];
}
