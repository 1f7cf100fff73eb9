import { isFarmError, type FarmError } from '@farm/core';
import { submitJob } from '../../../src/services/jobs';
import { expectCountersMatchRows } from '../../support/counters';
import { describeEachDatabase, resetDatabase } from '../../support/test-database';
import { snapshotTables } from './table-snapshot';
import { createTestServiceContext, type TestServiceContext } from './test-service-context';

async function farmError(promise: Promise<unknown>): Promise<FarmError> {
  try {
    await promise;
  } catch (error) {
    if (isFarmError(error)) return error;
    throw error;
  }
  throw new Error('expected a FarmError');
}

describeEachDatabase('submitJob', (getDb) => {
  let ctx: TestServiceContext;
  beforeEach(async () => {
    await resetDatabase(getDb().db);
    ctx = await createTestServiceContext(getDb());
  });
  afterEach(() => ctx.cleanUp());

  it('stores the job, its tasks and dependencies with counters set, and tells everyone', async () => {
    const job = await submitJob(ctx, ctx.principal, {
      name: 'Shot 010',
      type: 'echo-sleep-test',
      priority: 70,
      settings: { message: 'hello', sleep_repeats: 3 },
      metadata: { shot: '010' },
      requiredTags: ['gpu'],
    });
    expect(job).toMatchObject({
      name: 'Shot 010',
      type: 'echo-sleep-test',
      priority: 70,
      status: 'queued',
      project: { name: 'default' },
      submitter: { id: ctx.principal.userId, name: 'ann' },
      metadata: { shot: '010' },
      requiredTags: ['gpu'],
      failureThresholdPercent: 10,
      taskCounts: { queued: 4, total: 4, active: 0 },
      progress: 0,
      allowedActions: ['cancel', 'pause', 'delete', 'set-priority'],
    });
    expect(job.settings).toMatchObject({ message: 'hello', sleep_repeats: 3 });

    const tasks = await ctx.db
      .selectFrom('tasks')
      .select(['id', 'idx', 'name', 'status', 'unmet_dependencies', 'commands'])
      .where('job_id', '=', job.id)
      .orderBy('idx')
      .execute();
    expect(tasks.map((t) => [t.idx, t.name, t.status, t.unmet_dependencies])).toEqual([
      [0, 'echo', 'queued', 0],
      [1, 'sleep-1', 'queued', 1],
      [2, 'sleep-2', 'queued', 1],
      [3, 'sleep-3', 'queued', 1],
    ]);
    expect(tasks[0]!.commands).toEqual([{ name: 'echo', parameters: { message: 'hello' } }]);
    const deps = await ctx.db.selectFrom('task_dependencies').selectAll().execute();
    expect(deps).toHaveLength(3);
    expect(deps.every((d) => d.depends_on_id === tasks[0]!.id)).toBe(true);
    await expectCountersMatchRows(ctx.db, job.id);

    expect(ctx.events).toEqual([
      expect.objectContaining({
        type: 'job-updated',
        job: expect.objectContaining({ id: job.id }),
      }),
    ]);
    expect(ctx.wakeups).toBe(1);
  });

  it('stores a job submitted paused with paused tasks and wakes nobody', async () => {
    const job = await submitJob(ctx, ctx.principal, {
      name: 'later',
      type: 'echo-sleep-test',
      settings: { message: 'hi' },
      initialStatus: 'paused',
    });
    expect(job.status).toBe('paused');
    expect(job.taskCounts).toMatchObject({ paused: 2, queued: 0, total: 2 });
    await expectCountersMatchRows(ctx.db, job.id);
    expect(ctx.wakeups).toBe(0);
  });

  it("turns the submitter's paths into two-way variables", async () => {
    const fromLinux = await submitJob(ctx, ctx.principal, {
      name: 'paths',
      type: 'echo-sleep-test',
      settings: { message: '/mnt/render/shot/010' },
      submitterPlatform: 'linux',
    });
    expect(fromLinux.settings.message).toBe('{render}/shot/010');
    const fromWindows = await submitJob(ctx, ctx.principal, {
      name: 'paths',
      type: 'echo-sleep-test',
      settings: { message: 'R:\\shot\\010' },
      submitterPlatform: 'windows',
    });
    expect(fromWindows.settings.message).toBe('{render}/shot/010');
  });

  it('refuses invalid settings listing every problem, and stores nothing', async () => {
    const before = await snapshotTables(ctx.db);
    const error = await farmError(
      submitJob(ctx, ctx.principal, {
        name: 'bad',
        type: 'echo-sleep-test',
        settings: { sleep_repeats: 'many', sleep_duration_seconds: -1 },
      }),
    );
    expect(error.code).toBe('validation_failed');
    const issues = (error.details as { issues: { path: string }[] }).issues;
    // Every problem at once (core names them by setting key; possibly prefixed by `settings.`).
    expect(issues.map((issue) => issue.path.replace(/^settings\./, '')).sort()).toEqual([
      'message',
      'sleep_duration_seconds',
      'sleep_repeats',
    ]);
    expect(await snapshotTables(ctx.db)).toEqual(before);
    expect(ctx.events).toEqual([]);
  });

  it('refuses an outdated job-type etag with job_type_stale', async () => {
    const error = await farmError(
      submitJob(ctx, ctx.principal, {
        name: 'stale',
        type: 'echo-sleep-test',
        typeEtag: 'not-the-current-one',
        settings: { message: 'hi' },
      }),
    );
    expect(error.code).toBe('job_type_stale');
    expect(await ctx.db.selectFrom('jobs').select('id').execute()).toEqual([]);
  });

  it('refuses an unknown job type at path `type`, naming the known ones', async () => {
    const error = await farmError(
      submitJob(ctx, ctx.principal, { name: 'x', type: 'no-such-type', settings: {} }),
    );
    expect(error.code).toBe('validation_failed');
    const issues = (error.details as { issues: { path: string; message: string }[] }).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('type');
    expect(issues[0]!.message).toContain('echo-sleep-test');
    expect(issues[0]!.message).toContain('shell-frames');
  });

  it('refuses a job whose script fails with compile_failed, and an unknown project with not_found', async () => {
    const error = await farmError(
      submitJob(ctx, ctx.principal, {
        name: 'empty command',
        type: 'shell-frames',
        settings: { command: '   ', frames: '1-3' },
      }),
    );
    expect(error.code).toBe('compile_failed');
    const missing = await farmError(
      submitJob(ctx, ctx.principal, {
        name: 'x',
        type: 'echo-sleep-test',
        settings: { message: 'hi' },
        project: 'nope',
      }),
    );
    expect(missing.code).toBe('not_found');
    expect(await ctx.db.selectFrom('jobs').select('id').execute()).toEqual([]);
  });

  it('puts the job in the named project', async () => {
    const project = await ctx.db
      .insertInto('projects')
      .values({ name: 'film' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const byName = await submitJob(ctx, ctx.principal, {
      name: 'a',
      type: 'echo-sleep-test',
      settings: { message: 'hi' },
      project: 'film',
    });
    const byId = await submitJob(ctx, ctx.principal, {
      name: 'b',
      type: 'echo-sleep-test',
      settings: { message: 'hi' },
      project: project.id,
    });
    expect(byName.project).toEqual({ id: project.id, name: 'film' });
    expect(byId.project).toEqual({ id: project.id, name: 'film' });
  });
});
