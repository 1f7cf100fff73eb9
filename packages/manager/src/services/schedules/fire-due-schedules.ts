import { sql } from 'kysely';
import { toFarmError, type ApiSubmittedJob } from '@farm/core';
import type { UserPrincipal } from '../../http/principal';
import { loadProjectRoles } from '../auth/project-access';
import { submitJob } from '../jobs/submit-job';
import type { ServiceContext } from '../service-context';
import { nextRunAfter } from './schedule-timing';
import { timingOf } from './schedules';

/** One run the duty fired. */
export interface FiredRun {
  scheduleId: string;
  scheduledFor: Date;
  jobId: string | null;
  error: string | null;
}

// A tick handles at most this many schedules; the rest are due at the next tick, seconds later.
const MAX_RUNS_PER_TICK = 100;
const MAX_ERROR_LENGTH = 4000;

/**
 * Fires every enabled schedule whose next run is due at `now` (a parameter so tests need not wait
 * for the clock). Per schedule, one transaction claims the run: it locks the row (`SKIP LOCKED`, so
 * a replica firing the same schedule passes it by), records the run (unique per schedule and due
 * moment, so it is recorded once whatever happens) and moves `next_run_at` to the first moment
 * after `now`. A schedule that was due several times while the manager was down therefore fires
 * once, for its earliest missed moment, and then goes on from now. The job is submitted after that
 * commit, with the owner's rights, and the run row gets its job id or the error. A crash between
 * the two leaves a run without job nor error: at most once, never twice.
 */
export async function fireDueSchedules(
  ctx: ServiceContext,
  now: Date = new Date(),
): Promise<FiredRun[]> {
  const due = await ctx.db
    .selectFrom('schedules')
    .select('id')
    .where('enabled', '=', true)
    .where('next_run_at', '<=', now)
    .orderBy('next_run_at')
    .limit(MAX_RUNS_PER_TICK)
    .execute();
  const fired: FiredRun[] = [];
  for (const { id } of due) {
    const claimed = await claimRun(ctx, id, now);
    if (!claimed) continue;
    let jobId: string | null = null;
    let error: string | null = claimed.error;
    if (error === null) {
      try {
        const job = await submitJob(ctx, claimed.principal, withScheduleMetadata(claimed, now));
        jobId = job.id;
      } catch (thrown) {
        const farmError = toFarmError(thrown);
        error = `${farmError.code}: ${farmError.message}`.slice(0, MAX_ERROR_LENGTH);
      }
    }
    await ctx.db
      .updateTable('schedule_runs')
      .set({ job_id: jobId, error })
      .where('id', '=', claimed.runId)
      .execute();
    if (error !== null) {
      ctx.logger.warn('scheduled run submitted no job', { scheduleId: id, error });
    } else {
      ctx.logger.info('scheduled run submitted a job', { scheduleId: id, jobId });
    }
    fired.push({ scheduleId: id, scheduledFor: claimed.scheduledFor, jobId, error });
  }
  return fired;
}

interface ClaimedRun {
  runId: number;
  name: string;
  scheduledFor: Date;
  template: ApiSubmittedJob;
  principal: UserPrincipal | null;
  /** Set when the run cannot submit (no owner any more, or a timing that no longer parses). */
  error: string | null;
}

async function claimRun(
  ctx: ServiceContext,
  scheduleId: string,
  now: Date,
): Promise<ClaimedRun | null> {
  return ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('schedules as s')
      .leftJoin('users as u', 'u.id', 's.owner_id')
      .select([
        's.id',
        's.name',
        's.cron',
        's.interval_ms',
        's.time_zone',
        's.template',
        's.next_run_at',
        's.owner_id',
        'u.name as owner_name',
        'u.is_admin as owner_is_admin',
        'u.disabled_at as owner_disabled_at',
      ])
      .where('s.id', '=', scheduleId)
      .where('s.enabled', '=', true)
      .where('s.next_run_at', '<=', now)
      .forUpdate('s')
      .skipLocked()
      .executeTakeFirst();
    if (!row?.next_run_at) return null;
    const scheduledFor = row.next_run_at;
    let error: string | null = null;
    let next: Date | null = null;
    try {
      next = nextRunAfter(timingOf(row), now, scheduledFor);
    } catch (thrown) {
      error = `the schedule cannot compute its next run and was disabled: ${String(thrown)}`;
    }
    const run = await trx
      .insertInto('schedule_runs')
      .values({ schedule_id: row.id, scheduled_for: scheduledFor, fired_at: now })
      .onConflict((oc) => oc.columns(['schedule_id', 'scheduled_for']).doNothing())
      .returning('id')
      .executeTakeFirst();
    await trx
      .updateTable('schedules')
      .set({
        next_run_at: next,
        ...(next === null ? { enabled: false } : {}),
        last_run_at: now,
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', row.id)
      .execute();
    if (!run) return null;
    const owner =
      row.owner_id !== null && row.owner_name !== null && row.owner_disabled_at === null
        ? {
            kind: 'user' as const,
            userId: row.owner_id,
            name: row.owner_name,
            isAdmin: row.owner_is_admin === true,
            scopes: ['jobs:read', 'jobs:write'],
            // The owner's roles as they are now: a member who lost the project cannot submit to it.
            roles: await loadProjectRoles(trx, row.owner_id),
          }
        : null;
    if (owner === null && error === null) {
      error = 'the schedule`s owner was removed or disabled; give it a new owner by recreating it';
    }
    return {
      runId: Number(run.id),
      name: row.name,
      scheduledFor,
      template: row.template as unknown as ApiSubmittedJob,
      principal: owner,
      error,
    };
  });
}

// The job says which schedule made it and for which moment, so lists can filter on it.
function withScheduleMetadata(run: ClaimedRun, now: Date): ApiSubmittedJob {
  return {
    ...run.template,
    metadata: {
      ...(run.template.metadata ?? {}),
      schedule: run.name,
      scheduled_for: run.scheduledFor.toISOString(),
      fired_at: now.toISOString(),
    },
  };
}
