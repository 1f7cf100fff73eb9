import { FarmError, validationError, type SleepSchedule, type ValidationIssue } from '@farm/core';

const TIME = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;
const DAYS = ['su', 'mo', 'tu', 'we', 'th', 'fr', 'sa'] as const;
const WEEKDAY_INDEX: Record<string, number> = {
  Sun: 0,
  Mon: 1,
  Tue: 2,
  Wed: 3,
  Thu: 4,
  Fri: 5,
  Sat: 6,
};

function minutesOf(time: string): number {
  const match = TIME.exec(time);
  if (!match) throw new FarmError('internal', `bad time ${time}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** True when `zone` is an IANA time zone this Node knows. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a schedule beyond its JSON schema: `HH:MM` times, a known IANA zone, a non-empty window.
 *
 * @throws FarmError `validation_failed` listing every problem.
 */
export function validateSleepSchedule(schedule: SleepSchedule): void {
  const issues: ValidationIssue[] = [];
  if (!TIME.test(schedule.startTime))
    issues.push({ path: 'body.startTime', message: 'must be HH:MM (00:00 to 23:59)' });
  if (!TIME.test(schedule.endTime))
    issues.push({ path: 'body.endTime', message: 'must be HH:MM (00:00 to 23:59)' });
  if (issues.length === 0 && schedule.startTime === schedule.endTime)
    issues.push({ path: 'body.endTime', message: 'must differ from startTime' });
  if (!isValidTimeZone(schedule.timeZone))
    issues.push({ path: 'body.timeZone', message: `unknown time zone "${schedule.timeZone}"` });
  for (const day of schedule.daysOfWeek) {
    if (!(DAYS as readonly string[]).includes(day))
      issues.push({ path: 'body.daysOfWeek', message: `unknown day "${day}"` });
  }
  if (issues.length > 0) throw validationError('the sleep schedule is invalid', issues);
}

/** The local weekday index (0 = Sunday) and minute of day of `at` in `timeZone`. */
function localTime(at: Date, timeZone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
  return {
    day: WEEKDAY_INDEX[get('weekday')] ?? 0,
    minute: Number(get('hour')) * 60 + Number(get('minute')),
  };
}

/**
 * Whether the schedule says the worker sleeps at `at`. The window is `[start, end)` in the
 * schedule's zone; an end before the start crosses midnight (22:00–06:00 sleeps at night), and
 * then the day that counts is the day the window started. No days listed means every day.
 */
export function isSleepTime(
  schedule: Pick<SleepSchedule, 'daysOfWeek' | 'startTime' | 'endTime' | 'timeZone'>,
  at: Date = new Date(),
): boolean {
  const start = minutesOf(schedule.startTime);
  const end = minutesOf(schedule.endTime);
  const { day, minute } = localTime(at, schedule.timeZone);
  const dayAllowed = (index: number) =>
    schedule.daysOfWeek.length === 0 ||
    (schedule.daysOfWeek as readonly string[]).includes(DAYS[(index + 7) % 7]!);
  if (start < end) return minute >= start && minute < end && dayAllowed(day);
  // Overnight: the evening part belongs to today, the morning part to yesterday's window.
  if (minute >= start) return dayAllowed(day);
  if (minute < end) return dayAllowed(day - 1);
  return false;
}

/** The status a schedule wants now: `asleep` inside its window, else `awake`; null when inactive. */
export function scheduledStatus(
  schedule: (Parameters<typeof isSleepTime>[0] & { isActive: boolean }) | undefined,
  at: Date = new Date(),
): 'asleep' | 'awake' | null {
  if (!schedule?.isActive) return null;
  return isSleepTime(schedule, at) ? 'asleep' : 'awake';
}
