import {
  allowedJobActions,
  isFarmError,
  JOB_ACTIONS,
  JOB_STATUSES,
  type JobAction,
  type JobStatus,
} from '@farm/core';
import { applyBulkJobAction, applyJobAction } from '../../../src/services/jobs';
import { expectCountersMatchRows } from '../../support/counters';
import { describeEachDatabase, resetDatabase } from '../../support/test-database';
import { jobInStatus, taskIdsOf } from './job-fixtures';
import { snapshotTables } from './table-snapshot';
import { createTestServiceContext, type TestServiceContext } from './test-service-context';

// What a 4-task job in each status becomes after each allowed action (DESIGN.md's table and
// core's rules). `active` jobs have task 0 running; `failed` ones have task 0 failed and the
// rest canceled.
const EXPECTED: Partial<Record<JobStatus, Partial<Record<JobAction, JobStatus | 'deleted'>>>> = {
  waiting: { cancel: 'canceled', delete: 'deleted', 'set-priority': 'waiting' },
  queued: { cancel: 'canceled', pause: 'paused', delete: 'deleted', 'set-priority': 'queued' },
  active: {
    cancel: 'cancel-requested',
    pause: 'pause-requested',
    'requeue-failed': 'active',
    'set-priority': 'active',
  },
  paused: {
    cancel: 'canceled',
    resume: 'queued',
    requeue: 'queued',
    archive: 'archived',
    delete: 'deleted',
    'set-priority': 'paused',
  },
  completed: { requeue: 'queued', archive: 'archived', delete: 'deleted' },
  failed: {
    cancel: 'canceled',
    requeue: 'queued',
    'requeue-failed': 'queued',
    archive: 'archived',
    delete: 'deleted',
  },
  canceled: { requeue: 'queued', archive: 'archived', delete: 'deleted' },
  archived: { delete: 'deleted' },
};

describeEachDatabase('applyJobAction', (getDb) => {
  let ctx: TestServiceContext;
  beforeAll(async () => {
    await resetDatabase(getDb().db);
    ctx = await createTestServiceContext(getDb());
  });
  afterAll(() => ctx.cleanUp());

  for (const status of JOB_STATUSES) {
    for (const action of JOB_ACTIONS) {
      const allowed = allowedJobActions(status).includes(action);
      const expected = EXPECTED[status]?.[action];
      if (allowed) {
        it(`${action} on a ${status} job makes it ${String(expected)}`, async () => {
          const jobId = await jobInStatus(ctx, status);
          const activeBefore = await ctx.db
            .selectFrom('tasks')
            .select('id')
            .where('job_id', '=', jobId)
            .where('status', '=', 'active')
            .execute();
          const job = await applyJobAction(ctx, ctx.principal, jobId, {
            action,
            ...(action === 'set-priority' ? { priority: 90 } : {}),
            reason: 'testing',
          });
          const row = await ctx.db
            .selectFrom('jobs')
            .selectAll()
            .where('id', '=', jobId)
            .executeTakeFirst();
          if (expected === 'deleted') {
            expect(row).toBeUndefined();
            expect(await taskIdsOf(ctx, jobId)).toEqual([]);
            expect(ctx.events).toEqual([{ type: 'job-deleted', jobId }]);
            return;
          }
          expect(row?.status).toBe(expected);
          expect(job.status).toBe(expected);
          expect(job.taskCounts).toMatchObject({ total: 4 });
          await expectCountersMatchRows(ctx.db, jobId);
          if (action === 'set-priority') expect(row?.priority).toBe(90);
          // Running tasks stop at once when the action says so; they stay active until then.
          const stops = ['cancel', 'pause', 'archive'].includes(action);
          expect(ctx.stopped.flatMap((s) => s.taskIds)).toEqual(
            stops ? activeBefore.map((t) => t.id) : [],
          );
          expect(ctx.events.at(-1)).toMatchObject({
            type: 'job-updated',
            job: { id: jobId, status: expected },
          });
          if (action === 'archive')
            expect(row?.archived_summary).toMatchObject({ previousStatus: status });
        });
      } else {
        it(`refuses ${action} on a ${status} job with 409 and changes nothing`, async () => {
          const jobId = await jobInStatus(ctx, status);
          const before = await snapshotTables(ctx.db);
          let error: unknown;
          try {
            await applyJobAction(ctx, ctx.principal, jobId, { action, priority: 10 });
          } catch (caught) {
            error = caught;
          }
          expect(isFarmError(error) && error.code).toBe('invalid_transition');
          expect(isFarmError(error) && error.details).toEqual({
            status,
            action,
            allowedActions: [...allowedJobActions(status)],
          });
          expect(await snapshotTables(ctx.db)).toEqual(before);
          expect(ctx.events).toEqual([]);
          expect(ctx.stopped).toEqual([]);
        });
      }
    }
  }

  it('requeue-failed reruns failed and canceled tasks and keeps completed ones', async () => {
    const jobId = await jobInStatus(ctx, 'failed');
    const job = await applyJobAction(ctx, ctx.principal, jobId, { action: 'requeue-failed' });
    expect(job.taskCounts).toMatchObject({ queued: 4, failed: 0, canceled: 0 });
    expect(ctx.wakeups).toBe(1);
  });

  it('set-priority without a priority is a validation error', async () => {
    const jobId = await jobInStatus(ctx, 'queued');
    await expect(
      applyJobAction(ctx, ctx.principal, jobId, { action: 'set-priority' }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('answers not_found for an unknown job', async () => {
    await expect(
      applyJobAction(ctx, ctx.principal, '00000000-0000-4000-8000-000000000000', {
        action: 'cancel',
      }),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('applies a bulk action job by job: refused and unknown jobs do not stop the others', async () => {
    const queued = await jobInStatus(ctx, 'queued');
    const completed = await jobInStatus(ctx, 'completed');
    const active = await jobInStatus(ctx, 'active');
    const unknown = '00000000-0000-4000-8000-000000000001';
    const { results } = await applyBulkJobAction(ctx, ctx.principal, {
      jobIds: [queued, completed, unknown, active],
      action: 'cancel',
    });
    expect(results.map((r) => [r.jobId, r.ok, r.job?.status, r.error?.code])).toEqual([
      [queued, true, 'canceled', undefined],
      [completed, false, undefined, 'invalid_transition'],
      [unknown, false, undefined, 'not_found'],
      [active, true, 'cancel-requested', undefined],
    ]);
    expect(results[1]!.error?.details).toMatchObject({
      allowedActions: ['requeue', 'archive', 'delete'],
    });
  });
});
