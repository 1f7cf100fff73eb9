import { isFarmError, type FarmError } from '@farm/core';
import {
  createSchedule,
  fireDueSchedules,
  listScheduleRuns,
  nextRunAfter,
  updateSchedule,
} from '../../../src/services/schedules';
import { describeEachDatabase, resetDatabase } from '../../support/test-database';
import { createTestServiceContext, type TestServiceContext } from '../jobs/test-service-context';

async function farmError(promise: Promise<unknown>): Promise<FarmError> {
  try {
    await promise;
  } catch (error) {
    if (isFarmError(error)) return error;
    throw error;
  }
  throw new Error('expected a FarmError');
}

const TEMPLATE = { name: 'nightly', type: 'echo-sleep-test', settings: { message: 'hi' } };
const T0 = new Date('2026-03-01T10:00:30Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

describe('nextRunAfter', () => {
  it('reads a cron expression in its time zone', () => {
    // 02:00 in Amsterdam is 01:00 UTC in winter.
    const next = nextRunAfter(
      { cron: '0 2 * * *', intervalMs: null, timeZone: 'Europe/Amsterdam' },
      new Date('2026-01-10T12:00:00Z'),
    );
    expect(next.toISOString()).toBe('2026-01-11T01:00:00.000Z');
  });

  it('keeps an interval`s phase and skips the moments that passed', () => {
    const timing = { cron: null, intervalMs: 60 * 60_000, timeZone: 'UTC' };
    const anchor = new Date('2026-01-01T00:00:00Z');
    expect(nextRunAfter(timing, new Date('2026-01-01T00:00:00Z'), anchor).toISOString()).toBe(
      '2026-01-01T01:00:00.000Z',
    );
    expect(nextRunAfter(timing, new Date('2026-01-01T05:30:00Z'), anchor).toISOString()).toBe(
      '2026-01-01T06:00:00.000Z',
    );
  });
});

describeEachDatabase('schedules', (getDb) => {
  let ctx: TestServiceContext;
  beforeEach(async () => {
    await resetDatabase(getDb().db);
    ctx = await createTestServiceContext(getDb());
  });
  afterEach(() => ctx.cleanUp());

  const jobsOf = (name: string) =>
    ctx.db
      .selectFrom('jobs')
      .select(['id', 'name', 'status', 'metadata', 'submitter_id'])
      .where('name', '=', name)
      .orderBy('created_at')
      .execute();

  it('fires a schedule every minute, once per minute, with the owner as submitter', async () => {
    const schedule = await createSchedule(
      ctx,
      ctx.principal,
      { name: 'every minute', cron: '* * * * *', template: TEMPLATE },
      T0,
    );
    expect(schedule.nextRunAt).toBe('2026-03-01T10:01:00.000Z');
    expect(await fireDueSchedules(ctx, minutes(0.25))).toEqual([]);

    for (let minute = 1; minute <= 3; minute++) {
      const fired = await fireDueSchedules(ctx, minutes(minute));
      expect(fired).toHaveLength(1);
      expect(fired[0]!.error).toBeNull();
      // The same tick again (a second replica, a retried tick): nothing more.
      expect(await fireDueSchedules(ctx, minutes(minute))).toEqual([]);
    }
    const jobs = await jobsOf('nightly');
    expect(jobs).toHaveLength(3);
    expect(jobs.every((job) => job.status === 'queued')).toBe(true);
    expect(jobs.every((job) => job.submitter_id === ctx.principal.userId)).toBe(true);
    expect(jobs[0]!.metadata).toMatchObject({
      schedule: 'every minute',
      scheduled_for: '2026-03-01T10:01:00.000Z',
    });

    const runs = await listScheduleRuns(ctx, schedule.id);
    expect(runs.items.map((run) => run.jobId)).toEqual(jobs.map((job) => job.id).reverse());
  });

  it('fires once, not a burst, after the manager was down for many runs', async () => {
    const schedule = await createSchedule(
      ctx,
      ctx.principal,
      { name: 'catch-up', cron: '* * * * *', template: TEMPLATE },
      T0,
    );
    const fired = await fireDueSchedules(ctx, minutes(90));
    expect(fired).toHaveLength(1);
    expect(fired[0]!.scheduledFor.toISOString()).toBe('2026-03-01T10:01:00.000Z');
    expect(await fireDueSchedules(ctx, minutes(90))).toEqual([]);
    const after = await ctx.db
      .selectFrom('schedules')
      .select('next_run_at')
      .where('id', '=', schedule.id)
      .executeTakeFirstOrThrow();
    expect(after.next_run_at?.toISOString()).toBe('2026-03-01T11:31:00.000Z');
    expect(await jobsOf('nightly')).toHaveLength(1);
  });

  it('fires each run exactly once when two replicas tick at the same moment', async () => {
    await createSchedule(
      ctx,
      ctx.principal,
      { name: 'race', intervalMs: 60_000, template: TEMPLATE },
      T0,
    );
    const [a, b] = await Promise.all([
      fireDueSchedules(ctx, minutes(1)),
      fireDueSchedules(ctx, minutes(1)),
    ]);
    expect(a.length + b.length).toBe(1);
    expect(await jobsOf('nightly')).toHaveLength(1);
  });

  it('stops firing while disabled and starts again from now when enabled', async () => {
    const schedule = await createSchedule(
      ctx,
      ctx.principal,
      { name: 'toggle', cron: '*/5 * * * *', template: TEMPLATE },
      T0,
    );
    const disabled = await updateSchedule(ctx, ctx.principal, schedule.id, { enabled: false }, T0);
    expect(disabled).toMatchObject({ enabled: false, nextRunAt: null });
    expect(await fireDueSchedules(ctx, minutes(60))).toEqual([]);
    const enabled = await updateSchedule(
      ctx,
      ctx.principal,
      schedule.id,
      { enabled: true },
      minutes(60),
    );
    expect(enabled.nextRunAt).toBe('2026-03-01T11:05:00.000Z');
    expect(await fireDueSchedules(ctx, minutes(65))).toHaveLength(1);
  });

  it('records a run that could not submit, and goes on', async () => {
    const schedule = await createSchedule(
      ctx,
      ctx.principal,
      {
        name: 'bad project',
        intervalMs: 60_000,
        template: { ...TEMPLATE, project: 'no-such-project' },
      },
      T0,
    );
    const fired = await fireDueSchedules(ctx, minutes(1));
    expect(fired[0]).toMatchObject({
      jobId: null,
      error: expect.stringMatching(/no-such-project/),
    });
    const runs = await listScheduleRuns(ctx, schedule.id);
    expect(runs.items[0]).toMatchObject({ jobId: null, error: expect.stringMatching(/not_found/) });
    expect(await fireDueSchedules(ctx, minutes(2))).toHaveLength(1);
  });

  it('runs with its owner`s project roles and may be changed only by its owner or an admin', async () => {
    const project = await ctx.db
      .selectFrom('projects')
      .select('id')
      .where('name', '=', 'default')
      .executeTakeFirstOrThrow();
    const addUser = async (name: string, role: 'artist' | null) => {
      const user = await ctx.db
        .insertInto('users')
        .values({ name })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (role) {
        await ctx.db
          .insertInto('project_members')
          .values({ project_id: project.id, user_id: user.id, role })
          .execute();
      }
      return {
        kind: 'user' as const,
        userId: user.id,
        name,
        isAdmin: false,
        scopes: ['jobs:read', 'jobs:write'],
        roles: role ? { [project.id]: role } : {},
      };
    };
    const bob = await addUser('bob', 'artist');
    const carl = await addUser('carl', null);
    const schedule = await createSchedule(
      ctx,
      bob,
      { name: 'bob`s', intervalMs: 60_000, template: TEMPLATE },
      T0,
    );
    const fired = await fireDueSchedules(ctx, minutes(1));
    expect(fired[0]!.error).toBeNull();
    const jobs = await jobsOf('nightly');
    expect(jobs.map((job) => job.submitter_id)).toEqual([bob.userId]);

    const refused = await farmError(updateSchedule(ctx, carl, schedule.id, { enabled: false }));
    expect(refused.code).toBe('forbidden');
    expect(
      (await updateSchedule(ctx, ctx.principal, schedule.id, { enabled: false })).enabled,
    ).toBe(false);

    // Bob leaves the project: the next run is refused and says why, nothing is submitted.
    await ctx.db.deleteFrom('project_members').where('user_id', '=', bob.userId).execute();
    await updateSchedule(ctx, bob, schedule.id, { enabled: true }, minutes(1));
    const after = await fireDueSchedules(ctx, minutes(3));
    expect(after[0]).toMatchObject({ jobId: null, error: expect.stringMatching(/^forbidden/) });
    expect(await jobsOf('nightly')).toHaveLength(1);
  });

  it('refuses timings and templates that cannot work, and duplicate names', async () => {
    const badCron = await farmError(
      createSchedule(ctx, ctx.principal, { name: 'x', cron: 'every day', template: TEMPLATE }),
    );
    expect(badCron.code).toBe('validation_failed');
    expect(badCron.issues.map((issue) => issue.path)).toEqual(['cron']);
    const both = await farmError(
      createSchedule(ctx, ctx.principal, {
        name: 'x',
        cron: '* * * * *',
        intervalMs: 60_000,
        template: TEMPLATE,
      }),
    );
    expect(both.code).toBe('validation_failed');
    const zone = await farmError(
      createSchedule(ctx, ctx.principal, {
        name: 'x',
        cron: '* * * * *',
        timeZone: 'Mars/Olympus',
        template: TEMPLATE,
      }),
    );
    expect(zone.issues.map((issue) => issue.path)).toEqual(['timeZone']);
    const type = await farmError(
      createSchedule(ctx, ctx.principal, {
        name: 'x',
        cron: '* * * * *',
        template: { ...TEMPLATE, type: 'no-such-type' },
      }),
    );
    expect(type.issues.map((issue) => issue.path)).toEqual(['template/type']);

    await createSchedule(ctx, ctx.principal, { name: 'x', cron: '* * * * *', template: TEMPLATE });
    const taken = await farmError(
      createSchedule(ctx, ctx.principal, { name: 'x', cron: '* * * * *', template: TEMPLATE }),
    );
    expect(taken.code).toBe('conflict');
  });
});
