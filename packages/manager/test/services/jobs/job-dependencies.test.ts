import { isFarmError, type FarmError } from '@farm/core';
import { applyJobAction, refreshWaitingJobs, submitJob } from '../../../src/services/jobs';
import { describeEachDatabase, resetDatabase } from '../../support/test-database';
import { jobInStatus, submitSmallJob } from './job-fixtures';
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

describeEachDatabase('job-on-job dependencies', (getDb) => {
  let ctx: TestServiceContext;
  beforeEach(async () => {
    await resetDatabase(getDb().db);
    ctx = await createTestServiceContext(getDb());
  });
  afterEach(() => ctx.cleanUp());

  const submitAfter = (name: string, dependsOnJobs: string[], extra: object = {}) =>
    submitJob(ctx, ctx.principal, {
      name,
      type: 'echo-sleep-test',
      settings: { message: 'hi' },
      dependsOnJobs,
      ...extra,
    });
  const statusOf = async (jobId: string) =>
    await ctx.db
      .selectFrom('jobs')
      .select(['status', 'activity'])
      .where('id', '=', jobId)
      .executeTakeFirstOrThrow();

  it('starts queued when everything it depends on completed already', async () => {
    const done = await jobInStatus(ctx, 'completed');
    const job = await submitAfter('after done', [done]);
    expect(job.status).toBe('queued');
    expect(job.dependsOnJobs).toEqual([done]);
    expect(ctx.wakeups).toBe(1);
  });

  it('waits for every dependency, naming the ones left, and starts after the last', async () => {
    const a = await submitSmallJob(ctx, 'render A');
    const b = await submitSmallJob(ctx, 'render B');
    const job = await submitAfter('comp', [a, b]);
    expect(job.status).toBe('waiting');
    expect(job.activity).toBe('Waiting for 2 jobs "render A", "render B" to complete');
    expect(ctx.wakeups).toBe(2);

    await ctx.db.updateTable('jobs').set({ status: 'completed' }).where('id', '=', a).execute();
    expect(await refreshWaitingJobs(ctx, [a])).toEqual({ released: [], updated: [job.id] });
    expect(await statusOf(job.id)).toEqual({
      status: 'waiting',
      activity: 'Waiting for job "render B" to complete',
    });

    await ctx.db.updateTable('jobs').set({ status: 'completed' }).where('id', '=', b).execute();
    expect(await refreshWaitingJobs(ctx, [b])).toEqual({ released: [job.id], updated: [] });
    expect((await statusOf(job.id)).status).toBe('queued');
    expect(ctx.events.at(-1)).toMatchObject({
      type: 'job-updated',
      job: { id: job.id, status: 'queued' },
      previousStatus: 'waiting',
    });
    // A second replica reacting to the same event changes nothing.
    expect(await refreshWaitingJobs(ctx, [b])).toEqual({ released: [], updated: [] });
  });

  it('stays waiting on a failed dependency, says so, and waits normally again once it is requeued', async () => {
    const failed = await jobInStatus(ctx, 'failed');
    const job = await submitAfter('comp', [failed]);
    expect(job.status).toBe('waiting');
    expect(job.activity).toBe(
      'Waiting: job "in failed" is failed; requeue it to go on, or cancel this job',
    );
    await applyJobAction(ctx, ctx.principal, failed, { action: 'requeue' });
    await refreshWaitingJobs(ctx, [failed]);
    expect(await statusOf(job.id)).toEqual({
      status: 'waiting',
      activity: 'Waiting for job "in failed" to complete',
    });
  });

  it('is released by the periodic check once its dependency was deleted', async () => {
    const blocker = await submitSmallJob(ctx, 'blocker');
    const job = await submitAfter('comp', [blocker]);
    await applyJobAction(ctx, ctx.principal, blocker, { action: 'delete' });
    expect(await refreshWaitingJobs(ctx)).toEqual({ released: [job.id], updated: [] });
    expect((await statusOf(job.id)).status).toBe('queued');
  });

  it('refuses unknown and archived jobs, and a waiting job submitted paused', async () => {
    const archived = await jobInStatus(ctx, 'archived');
    const missing = '00000000-0000-4000-8000-000000000000';
    const error = await farmError(submitAfter('x', [archived, missing]));
    expect(error.code).toBe('validation_failed');
    expect(error.issues).toEqual([
      { path: 'dependsOnJobs/0', message: `job ${archived} is archived and never runs` },
      { path: 'dependsOnJobs/1', message: `there is no job ${missing}` },
    ]);
    const queued = await submitSmallJob(ctx, 'q');
    const paused = await farmError(submitAfter('y', [queued], { initialStatus: 'paused' }));
    expect(paused.issues.map((issue) => issue.path)).toEqual(['initialStatus']);
    const jobs = await ctx.db.selectFrom('jobs').select('name').execute();
    expect(jobs.map((row) => row.name).sort()).toEqual(['in archived', 'q']);
  });
});
