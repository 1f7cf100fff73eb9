import { CronExpressionParser } from 'cron-parser';
import { validationError, type ValidationIssue } from '@farm/core';

/** When a schedule fires: a cron expression read in a time zone, or a fixed interval. */
export interface ScheduleTiming {
  cron: string | null;
  intervalMs: number | null;
  timeZone: string;
}

/** Problems with a timing, as validation issues (empty when it is usable). */
export function checkScheduleTiming(timing: ScheduleTiming): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if ((timing.cron === null) === (timing.intervalMs === null)) {
    issues.push({ path: 'cron', message: 'give exactly one of cron and intervalMs' });
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: timing.timeZone });
  } catch {
    issues.push({ path: 'timeZone', message: `"${timing.timeZone}" is not an IANA time zone` });
    return issues;
  }
  if (timing.cron !== null) {
    try {
      CronExpressionParser.parse(timing.cron, { tz: timing.timeZone }).next();
    } catch (error) {
      issues.push({
        path: 'cron',
        message: `is not a cron expression (${error instanceof Error ? error.message : String(error)})`,
      });
    }
  }
  return issues;
}

/** Throws `validation_failed` listing every problem of the timing. */
export function assertScheduleTiming(timing: ScheduleTiming): void {
  const issues = checkScheduleTiming(timing);
  if (issues.length > 0) throw validationError('the schedule cannot fire', issues);
}

/**
 * The first moment strictly after `after` at which the schedule fires. An interval schedule keeps
 * its phase: from `anchor` (its last due moment) it steps whole intervals past `after`, so runs
 * missed while the manager was down are skipped, not made up in a burst.
 */
export function nextRunAfter(timing: ScheduleTiming, after: Date, anchor?: Date): Date {
  if (timing.intervalMs !== null) {
    const interval = timing.intervalMs;
    if (!anchor) return new Date(after.getTime() + interval);
    const steps = Math.max(1, Math.floor((after.getTime() - anchor.getTime()) / interval) + 1);
    return new Date(anchor.getTime() + steps * interval);
  }
  return CronExpressionParser.parse(timing.cron ?? '', { currentDate: after, tz: timing.timeZone })
    .next()
    .toDate();
}
