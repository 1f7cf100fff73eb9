import type { Schema } from '../api/api-types';

type Schedule = Schema<'Schedule'>;

const UNITS: Array<[string, number]> = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "cron 0 2 * * *" or "every 2 hours": how a schedule's timing reads in the list. */
export function describeScheduleTiming(schedule: Pick<Schedule, 'cron' | 'intervalMs'>): string {
  if (schedule.cron !== null) return `cron ${schedule.cron}`;
  const ms = schedule.intervalMs ?? 0;
  for (const [unit, size] of UNITS) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return n === 1 ? `every ${unit}` : `every ${n} ${unit}s`;
    }
  }
  return `every ${Math.round(ms / 1000)} s`;
}
