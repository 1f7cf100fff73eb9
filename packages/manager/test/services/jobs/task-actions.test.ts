import { isFarmError } from '@farm/core';
import {
  applyJobAction,
  applyTaskAction,
  applyTaskActions,
  getTask,
} from '../../../src/services/jobs';
import { expectCountersMatchRows } from '../../support/counters';
import { describeEachDatabase, resetDatabase } from '../../support/test-database';
import { insertWorker, jobInStatus, taskIdsOf, workerMoves } from './job-fixtures';
import { snapshotTables } from './table-snapshot';
import { createTestServiceContext, type TestServiceContext } from './test-service-context';

describeEachDatabase('task actions', (getDb) => {
  let ctx: TestServiceContext;
  beforeAll(async () => {
    await resetDatabase(getDb().db);
    ctx = await createTestServiceContext(getDb());
  });
  afterAll(() => ctx.cleanUp());

  async function statuses(jobId: string): Promise<string[]> {
    const rows = await ctx.db
      .selectFrom('tasks')
      .select('status')
      .where('job_id', '=', jobId)
      .orderBy('idx')
      .execute();
    return rows.map((row) => row.status);
  }

  it('requeueing one task of a completed job requeues that task only and reopens the job', async () => {
    const jobId = await jobInStatus(ctx, 'completed');
    const ids = await taskIdsOf(ctx, jobId);
    const worker = await insertWorker(ctx, 'failer');
    await ctx.db
      .insertInto('task_failures')
      .values({ task_id: ids[2]!, worker_id: worker })
      .execute();
    const task = await applyTaskAction(ctx, ctx.principal, ids[2]!, { action: 'requeue' });
    expect(task).toMatchObject({ status: 'queued', worker: null, failedByWorkers: [] });
    expect(await statuses(jobId)).toEqual(['completed', 'completed', 'queued', 'completed']);
    const job = await ctx.db
      .selectFrom('jobs')
      .selectAll()
      .where('id', '=', jobId)
      .executeTakeFirstOrThrow();
    expect(job.status).toBe('queued');
    await expectCountersMatchRows(ctx.db, jobId);
    expect(ctx.events.map((e) => e.type)).toEqual(['task-updated', 'job-updated']);
    expect(ctx.wakeups).toBe(1);
  });

  it('canceling an active task stops it on its worker at once', async () => {
    const jobId = await jobInStatus(ctx, 'active');
    const ids = await taskIdsOf(ctx, jobId);
    const task = await applyTaskAction(ctx, ctx.principal, ids[0]!, {
      action: 'cancel',
      reason: 'wrong frame',
    });
    expect(task.status).toBe('canceled');
    expect(task.activity).toContain('wrong frame');
    expect(ctx.stopped).toEqual([
      { taskIds: [ids[0]], reason: expect.stringContaining('wrong frame') },
    ]);
    await expectCountersMatchRows(ctx.db, jobId);
  });

  it('refuses a task action its status does not allow with 409, changing nothing', async () => {
    const jobId = await jobInStatus(ctx, 'queued');
    const ids = await taskIdsOf(ctx, jobId);
    const before = await snapshotTables(ctx.db);
    let error: unknown;
    try {
      await applyTaskAction(ctx, ctx.principal, ids[0]!, { action: 'requeue' });
    } catch (caught) {
      error = caught;
    }
    expect(isFarmError(error) && error.code).toBe('invalid_transition');
    expect(isFarmError(error) && error.details).toMatchObject({
      status: 'queued',
      allowedActions: ['cancel'],
    });
    expect(await snapshotTables(ctx.db)).toEqual(before);
  });

  it('refuses task actions while the job is passing between states', async () => {
    const jobId = await jobInStatus(ctx, 'pause-requested');
    const ids = await taskIdsOf(ctx, jobId);
    await expect(
      applyTaskAction(ctx, ctx.principal, ids[0]!, { action: 'cancel' }),
    ).rejects.toMatchObject({
      code: 'invalid_transition',
      details: { allowedActions: [], jobStatus: 'pause-requested' },
    });
  });

  it('applies bulk task actions per task: refused and unknown tasks do not stop the others', async () => {
    const a = await jobInStatus(ctx, 'queued');
    const b = await jobInStatus(ctx, 'failed');
    const aIds = await taskIdsOf(ctx, a);
    const bIds = await taskIdsOf(ctx, b);
    const unknown = '00000000-0000-4000-8000-000000000002';
    // b: task 0 failed, the rest canceled; a: all queued.
    const results = await applyTaskActions(
      ctx,
      ctx.principal,
      [bIds[0]!, aIds[1]!, unknown, bIds[1]!],
      {
        action: 'requeue',
      },
    );
    expect(results.map((r) => [r.taskId, r.ok, r.task?.status, r.error?.code])).toEqual([
      [bIds[0], true, 'queued', undefined],
      [aIds[1], false, undefined, 'invalid_transition'],
      [unknown, false, undefined, 'not_found'],
      [bIds[1], true, 'queued', undefined],
    ]);
    // The failed job reopened. Tasks 1-3 depend on task 0 and were canceled because it failed,
    // so requeueing task 0 requeues them too (issue 8: dependents do not wait forever).
    expect(await statuses(b)).toEqual(['queued', 'queued', 'queued', 'queued']);
    const job = await ctx.db
      .selectFrom('jobs')
      .select('status')
      .where('id', '=', b)
      .executeTakeFirstOrThrow();
    expect(job.status).toBe('queued');
    await expectCountersMatchRows(ctx.db, a);
    await expectCountersMatchRows(ctx.db, b);
  });

  it('a requeued task in a paused job waits paused for resume', async () => {
    const jobId = await jobInStatus(ctx, 'paused');
    const ids = await taskIdsOf(ctx, jobId);
    // Paused tasks allow no action, so cancel one while the job runs, then pause the job again.
    await applyJobAction(ctx, ctx.principal, jobId, { action: 'resume' });
    await applyTaskAction(ctx, ctx.principal, ids[1]!, { action: 'cancel' });
    await applyJobAction(ctx, ctx.principal, jobId, { action: 'pause' });
    const task = await applyTaskAction(ctx, ctx.principal, ids[1]!, { action: 'requeue' });
    expect(task.status).toBe('paused');
    await expectCountersMatchRows(ctx.db, jobId);
  });

  it('getTask shows commands, dependencies, failures, worker and allowed actions', async () => {
    const jobId = await jobInStatus(ctx, 'queued');
    const ids = await taskIdsOf(ctx, jobId);
    const worker = await insertWorker(ctx, 'render-07');
    await workerMoves(ctx, jobId, ids[0]!, 'queued', 'active', worker);
    await ctx.logs.append(jobId, ids[0]!, 'rendering');
    const first = await getTask(ctx, ids[0]!);
    expect(first).toMatchObject({
      id: ids[0],
      jobId,
      index: 0,
      name: 'echo',
      status: 'active',
      worker: { id: worker, name: 'render-07' },
      commands: [{ name: 'echo', parameters: { message: 'hi' } }],
      dependsOn: [],
      allowedActions: ['cancel'],
      logSize: 'rendering\n'.length,
    });
    expect(first.lastTouched).not.toBeNull();
    const second = await getTask(ctx, ids[1]!);
    expect(second.dependsOn).toEqual([ids[0]]);
    await expect(getTask(ctx, '00000000-0000-4000-8000-000000000003')).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});
