import { sql } from 'kysely';
import {
  FarmError,
  validationError,
  type ApiSubmittedJob,
  type NewSchedule,
  type Schedule,
  type ScheduleRun,
  type ScheduleUpdate,
} from '@farm/core';
import type { Selectable } from 'kysely';
import { isSqlState, SQLSTATE } from '../../db/sqlstate';
import type { SchedulesTable } from '../../db/schedule-tables';
import type { Principal } from '../../http/principal';
import { visibleProjectIds } from '../auth/project-access';
import { DEFAULT_PROJECT_NAME } from '../jobs/submit-job';
import type { ServiceContext } from '../service-context';
import { assertScheduleTiming, nextRunAfter, type ScheduleTiming } from './schedule-timing';

type ScheduleRow = Selectable<SchedulesTable> & { owner_name: string | null };

function scheduleNotFound(scheduleId: string): FarmError {
  return new FarmError('not_found', `there is no schedule ${scheduleId}`, {
    details: { scheduleId },
  });
}

function timingOf(row: Pick<ScheduleRow, 'cron' | 'interval_ms' | 'time_zone'>): ScheduleTiming {
  return {
    cron: row.cron,
    intervalMs: row.interval_ms === null ? null : Number(row.interval_ms),
    timeZone: row.time_zone,
  };
}

function toApiSchedule(row: ScheduleRow): Schedule {
  return {
    id: row.id,
    name: row.name,
    cron: row.cron,
    intervalMs: row.interval_ms === null ? null : Number(row.interval_ms),
    timeZone: row.time_zone,
    enabled: row.enabled,
    template: row.template as unknown as ApiSubmittedJob,
    owner:
      row.owner_id === null || row.owner_name === null
        ? null
        : { id: row.owner_id, name: row.owner_name },
    nextRunAt: row.next_run_at === null ? null : row.next_run_at.toISOString(),
    lastRunAt: row.last_run_at === null ? null : row.last_run_at.toISOString(),
    created: row.created_at.toISOString(),
    updated: row.updated_at.toISOString(),
  };
}

function selectSchedules(ctx: ServiceContext) {
  return ctx.db
    .selectFrom('schedules as s')
    .leftJoin('users as u', 'u.id', 's.owner_id')
    .selectAll('s')
    .select('u.name as owner_name');
}

async function findSchedule(ctx: ServiceContext, scheduleId: string): Promise<ScheduleRow> {
  const row = await selectSchedules(ctx).where('s.id', '=', scheduleId).executeTakeFirst();
  if (!row) throw scheduleNotFound(scheduleId);
  return row;
}

// The template is checked as far as it can be without submitting: a schedule that names an
// unknown job type or project would only fail at its first run, maybe at night.
function checkTemplate(ctx: ServiceContext, template: ApiSubmittedJob): void {
  if (template.dependsOnJobs !== undefined && template.dependsOnJobs.length > 0) {
    throw validationError('a schedule cannot wait for fixed jobs', [
      { path: 'template/dependsOnJobs', message: 'is not allowed in a schedule template' },
    ]);
  }
  try {
    ctx.jobTypes.get(template.type);
  } catch {
    throw validationError(`there is no job type "${template.type}"`, [
      { path: 'template/type', message: 'is not a known job type' },
    ]);
  }
}

// A schedule submits jobs with its owner's rights, so only the owner (or a farm admin) may change
// what it submits or remove it.
function assertMayChange(principal: Principal | null, schedule: ScheduleRow): void {
  if (principal === null) return;
  if (principal.kind === 'user' && (principal.isAdmin || principal.userId === schedule.owner_id)) {
    return;
  }
  throw new FarmError('forbidden', `only the owner of schedule "${schedule.name}" may change it`, {
    details: { scheduleId: schedule.id },
  });
}

function nameTaken(name: string): FarmError {
  return new FarmError('conflict', `a schedule named "${name}" exists already`, {
    details: { name },
  });
}

// A schedule belongs to the project its template submits to, and is shown like that project's
// jobs (issue 7): its template names jobs, paths and settings. Returns null for "every project".
async function visibleProjectNames(
  ctx: ServiceContext,
  principal: Principal | null,
): Promise<Set<string> | null> {
  const ids = visibleProjectIds(principal);
  if (ids === null) return null;
  if (ids.length === 0) return new Set();
  const rows = await ctx.db.selectFrom('projects').select('name').where('id', 'in', ids).execute();
  return new Set(rows.map((row) => row.name));
}

function projectNameOf(row: ScheduleRow): string {
  return (row.template as unknown as ApiSubmittedJob).project ?? DEFAULT_PROJECT_NAME;
}

/**
 * Checks the caller may see the schedule (a role in its template's project).
 * @throws FarmError `not_found`, `forbidden`
 */
export async function assertMaySeeSchedule(
  ctx: ServiceContext,
  principal: Principal | null,
  scheduleId: string,
): Promise<void> {
  const row = await findSchedule(ctx, scheduleId);
  const names = await visibleProjectNames(ctx, principal);
  if (names !== null && !names.has(projectNameOf(row))) {
    throw new FarmError('forbidden', "you have no role in this schedule's project", {
      details: { scheduleId },
    });
  }
}

/** The schedules the caller may see (those of their projects; farm admins: all), by name. */
export async function listSchedules(
  ctx: ServiceContext,
  principal: Principal | null = null,
): Promise<{ items: Schedule[] }> {
  const [rows, names] = await Promise.all([
    selectSchedules(ctx).orderBy('s.name').execute(),
    visibleProjectNames(ctx, principal),
  ]);
  const shown = names === null ? rows : rows.filter((row) => names.has(projectNameOf(row)));
  return { items: shown.map(toApiSchedule) };
}

/** One schedule. @throws FarmError `not_found`, `forbidden` (not of the caller's projects) */
export async function getSchedule(
  ctx: ServiceContext,
  scheduleId: string,
  principal: Principal | null = null,
): Promise<Schedule> {
  await assertMaySeeSchedule(ctx, principal, scheduleId);
  return toApiSchedule(await findSchedule(ctx, scheduleId));
}

/**
 * Creates a schedule owned by the caller; its jobs are submitted with the owner's rights. The
 * first run is the cron expression's next moment, or one interval from now.
 *
 * @throws FarmError `validation_failed` (timing, template), `conflict` (name taken)
 */
export async function createSchedule(
  ctx: ServiceContext,
  principal: Principal | null,
  body: NewSchedule,
  now: Date = new Date(),
): Promise<Schedule> {
  if (principal?.kind !== 'user') throw new FarmError('forbidden', 'schedules belong to users');
  const timing: ScheduleTiming = {
    cron: body.cron ?? null,
    intervalMs: body.intervalMs ?? null,
    timeZone: body.timeZone ?? 'UTC',
  };
  assertScheduleTiming(timing);
  checkTemplate(ctx, body.template);
  const enabled = body.enabled ?? true;
  try {
    const row = await ctx.db
      .insertInto('schedules')
      .values({
        name: body.name,
        cron: timing.cron,
        interval_ms: timing.intervalMs,
        time_zone: timing.timeZone,
        enabled,
        template: JSON.stringify(body.template),
        owner_id: principal.userId,
        next_run_at: enabled ? nextRunAfter(timing, now) : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return await getSchedule(ctx, row.id);
  } catch (error) {
    if (isSqlState(error, SQLSTATE.UNIQUE_VIOLATION)) throw nameTaken(body.name);
    throw error;
  }
}

/**
 * Changes a schedule. A new timing, or enabling it, sets the next run from now; disabling clears
 * it. Giving `cron` turns an interval schedule into a cron one and the other way round.
 *
 * @throws FarmError `not_found`, `forbidden` (not the owner nor a farm admin),
 *   `validation_failed`, `conflict` (name taken)
 */
export async function updateSchedule(
  ctx: ServiceContext,
  principal: Principal | null,
  scheduleId: string,
  body: ScheduleUpdate,
  now: Date = new Date(),
): Promise<Schedule> {
  if (body.cron !== undefined && body.intervalMs !== undefined) {
    throw validationError('give cron or intervalMs, not both', [
      { path: 'cron', message: 'cannot be combined with intervalMs' },
    ]);
  }
  const current = await findSchedule(ctx, scheduleId);
  assertMayChange(principal, current);
  const timing: ScheduleTiming = {
    cron: body.intervalMs !== undefined ? null : (body.cron ?? current.cron),
    intervalMs:
      body.cron !== undefined
        ? null
        : (body.intervalMs ?? (current.interval_ms === null ? null : Number(current.interval_ms))),
    timeZone: body.timeZone ?? current.time_zone,
  };
  assertScheduleTiming(timing);
  if (body.template !== undefined) checkTemplate(ctx, body.template);
  const enabled = body.enabled ?? current.enabled;
  const timingChanged =
    body.cron !== undefined || body.intervalMs !== undefined || body.timeZone !== undefined;
  let nextRunAt = current.next_run_at;
  if (!enabled) nextRunAt = null;
  else if (timingChanged || !current.enabled || nextRunAt === null) {
    nextRunAt = nextRunAfter(timing, now);
  }
  try {
    const changed = await ctx.db
      .updateTable('schedules')
      .set({
        ...(body.name !== undefined ? { name: body.name } : {}),
        cron: timing.cron,
        interval_ms: timing.intervalMs,
        time_zone: timing.timeZone,
        enabled,
        ...(body.template !== undefined ? { template: JSON.stringify(body.template) } : {}),
        next_run_at: nextRunAt,
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', scheduleId)
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) === 0) throw scheduleNotFound(scheduleId);
  } catch (error) {
    if (isSqlState(error, SQLSTATE.UNIQUE_VIOLATION)) throw nameTaken(body.name ?? current.name);
    throw error;
  }
  return getSchedule(ctx, scheduleId);
}

/**
 * Removes a schedule and its run history; the jobs it submitted stay.
 * @throws FarmError `not_found`, `forbidden` (not the owner nor a farm admin)
 */
export async function deleteSchedule(
  ctx: ServiceContext,
  principal: Principal | null,
  scheduleId: string,
): Promise<void> {
  assertMayChange(principal, await findSchedule(ctx, scheduleId));
  const deleted = await ctx.db
    .deleteFrom('schedules')
    .where('id', '=', scheduleId)
    .executeTakeFirst();
  if (Number(deleted.numDeletedRows) === 0) throw scheduleNotFound(scheduleId);
}

/** The schedule's latest runs, newest first. @throws `not_found` */
export async function listScheduleRuns(
  ctx: ServiceContext,
  scheduleId: string,
  limit = 50,
): Promise<{ items: ScheduleRun[] }> {
  await findSchedule(ctx, scheduleId);
  const rows = await ctx.db
    .selectFrom('schedule_runs')
    .selectAll()
    .where('schedule_id', '=', scheduleId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return {
    items: rows.map((row) => ({
      id: Number(row.id),
      scheduledFor: row.scheduled_for.toISOString(),
      firedAt: row.fired_at.toISOString(),
      jobId: row.job_id,
      error: row.error,
    })),
  };
}

export { timingOf };
