import type { SleepSchedule } from '../api/api-types';

/** Problems with a schedule before it is sent; an end before the start spans midnight, which is fine. */
export function sleepScheduleProblems(schedule: SleepSchedule): string[] {
  const problems: string[] = [];
  const time = /^([01]\d|2[0-3]):[0-5]\d$/;
  if (!time.test(schedule.startTime)) problems.push('Start must be a time like 22:00.');
  if (!time.test(schedule.endTime)) problems.push('End must be a time like 07:00.');
  if (schedule.startTime === schedule.endTime) problems.push('Start and end must differ.');
  if (!schedule.timeZone.trim()) problems.push('A time zone is needed.');
  return problems;
}
