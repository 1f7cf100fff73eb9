import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import { TASK_STATUSES, type TaskStatus } from '@farm/core';
import type { Database } from '../../src/db';
import { rollUpJob, transitionTasks } from '../../src/services/task-transitions';
import { expectCountersMatchRows } from '../support/counters';
import { describeEachDatabase } from '../support/test-database';

/** A queued job of `deps.length` tasks; task i depends on the tasks listed in `deps[i]` (all < i). */
async function insertJob(
  db: Kysely<Database>,
  deps: number[][],
): Promise<{ jobId: string; taskIds: string[] }> {
  const project = await db.selectFrom('projects').select('id').executeTakeFirstOrThrow();
  const job = await db
    .insertInto('jobs')
    .values({
      name: 'transitions',
      type: 'echo-sleep-test',
      project_id: project.id,
      tasks_total: deps.length,
      tasks_queued: deps.length,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const taskIds = deps.map(() => randomUUID());
  await db
    .insertInto('tasks')
    .values(
      deps.map((on, idx) => ({
        id: taskIds[idx]!,
        job_id: job.id,
        idx,
        name: `task ${idx}`,
        type: 'misc',
        unmet_dependencies: on.length,
      })),
    )
    .execute();
  const links = deps.flatMap((on, idx) =>
    on.map((dep) => ({ task_id: taskIds[idx]!, depends_on_id: taskIds[dep]! })),
  );
  if (links.length > 0) await db.insertInto('task_dependencies').values(links).execute();
  return { jobId: job.id, taskIds };
}

async function statuses(db: Kysely<Database>, jobId: string): Promise<Map<string, TaskStatus>> {
  const rows = await db
    .selectFrom('tasks')
    .select(['id', 'status'])
    .where('job_id', '=', jobId)
    .execute();
  return new Map(rows.map((row) => [row.id, row.status]));
}

const depsArb = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        i === 0
          ? fc.constant<number[]>([])
          : fc.uniqueArray(fc.nat({ max: i - 1 }), { maxLength: 3 }),
      ),
    ),
  );

const stepArb = fc.record({
  ids: fc.option(fc.uniqueArray(fc.nat({ max: 11 }), { minLength: 1, maxLength: 6 }), {
    nil: undefined,
  }),
  from: fc.uniqueArray(fc.constantFrom(...TASK_STATUSES), { minLength: 1, maxLength: 4 }),
  to: fc.constantFrom(...TASK_STATUSES),
  clearFailures: fc.boolean(),
});

describeEachDatabase('transitionTasks and rollUpJob', (getDb) => {
  it('keeps the counters equal to the rows and moves only guarded tasks, over random sequences', async () => {
    const { db } = getDb();
    await fc.assert(
      fc.asyncProperty(
        depsArb,
        fc.array(stepArb, { minLength: 1, maxLength: 12 }),
        async (deps, steps) => {
          const { jobId, taskIds } = await insertJob(db, deps);
          for (const step of steps) {
            const ids = step.ids?.map((i) => taskIds[i % taskIds.length]!);
            const before = await statuses(db, jobId);
            const { moved, cascaded } = await db.transaction().execute((trx) =>
              transitionTasks(trx, {
                jobId,
                taskIds: ids,
                from: step.from,
                to: step.to,
                clearFailures: step.clearFailures,
              }),
            );
            const after = await statuses(db, jobId);
            const expected = [...before]
              .filter(
                ([id, status]) =>
                  (ids === undefined || ids.includes(id)) &&
                  step.from.includes(status) &&
                  status !== step.to,
              )
              .map(([id, previousStatus]) => ({ id, previousStatus }));
            expect(sortById(moved)).toEqual(sortById(expected));
            // Dependents of failed/canceled tasks are canceled, and of requeued ones requeued.
            const alongside = new Map(cascaded.map((task) => [task.id, task]));
            for (const task of cascaded) {
              expect(expected.some((m) => m.id === task.id)).toBe(false);
              expect(before.get(task.id)).toBe(task.previousStatus);
              expect(task.status).toBe(step.to === 'queued' ? 'queued' : 'canceled');
            }
            for (const [id, status] of before) {
              expect(after.get(id)).toBe(
                expected.some((m) => m.id === id) ? step.to : (alongside.get(id)?.status ?? status),
              );
            }
            await expectCountersMatchRows(db, jobId);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('stamps times and clears the worker when a task goes back to the queue', async () => {
    const { db } = getDb();
    const { jobId, taskIds } = await insertJob(db, [[], [0]]);
    const worker = await db
      .insertInto('workers')
      .values({ name: 'w1', token_hash: randomUUID() })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.transaction().execute((trx) =>
      transitionTasks(trx, {
        jobId,
        taskIds: [taskIds[0]!],
        from: ['queued'],
        to: 'active',
        workerId: worker.id,
        activity: 'started',
      }),
    );
    let task = await db
      .selectFrom('tasks')
      .selectAll()
      .where('id', '=', taskIds[0]!)
      .executeTakeFirstOrThrow();
    expect(task).toMatchObject({
      status: 'active',
      worker_id: worker.id,
      activity: 'started',
      finished_at: null,
    });
    expect(task.started_at).toBeInstanceOf(Date);
    expect(task.last_touched_at).toBeInstanceOf(Date);

    await db
      .insertInto('task_failures')
      .values({ task_id: taskIds[0]!, worker_id: worker.id })
      .execute();
    await db
      .transaction()
      .execute((trx) =>
        transitionTasks(trx, { jobId, taskIds: [taskIds[0]!], from: ['active'], to: 'completed' }),
      );
    task = await db
      .selectFrom('tasks')
      .selectAll()
      .where('id', '=', taskIds[0]!)
      .executeTakeFirstOrThrow();
    expect(task.finished_at).toBeInstanceOf(Date);
    expect(task.worker_id).toBe(worker.id);
    const dependent = await db
      .selectFrom('tasks')
      .select('unmet_dependencies')
      .where('id', '=', taskIds[1]!)
      .executeTakeFirstOrThrow();
    expect(dependent.unmet_dependencies).toBe(0);

    await db.transaction().execute((trx) =>
      transitionTasks(trx, {
        jobId,
        taskIds: [taskIds[0]!],
        from: ['completed'],
        to: 'queued',
        clearFailures: true,
      }),
    );
    task = await db
      .selectFrom('tasks')
      .selectAll()
      .where('id', '=', taskIds[0]!)
      .executeTakeFirstOrThrow();
    expect(task).toMatchObject({
      status: 'queued',
      worker_id: null,
      finished_at: null,
      progress: 0,
    });
    expect(await db.selectFrom('task_failures').selectAll().execute()).toEqual([]);
    await expectCountersMatchRows(db, jobId);
  });

  it('rolls a job up: the first active task activates it, failures past the threshold fail it and cancel the rest', async () => {
    const { db } = getDb();
    const { jobId, taskIds } = await insertJob(
      db,
      Array.from({ length: 10 }, () => []),
    );
    const first = await db.transaction().execute(async (trx) => {
      await transitionTasks(trx, {
        jobId,
        taskIds: [taskIds[0]!, taskIds[1]!],
        from: ['queued'],
        to: 'active',
      });
      return rollUpJob(trx, jobId);
    });
    expect(first.previousStatus).toBe('queued');
    expect(first.job.status).toBe('active');
    expect(first.canceledTasks).toBe(0);

    const second = await db.transaction().execute(async (trx) => {
      await transitionTasks(trx, { jobId, taskIds: [taskIds[0]!], from: ['active'], to: 'failed' });
      return rollUpJob(trx, jobId);
    });
    expect(second.job.status).toBe('failed');
    expect(second.job.activity).toContain('1 of 10 tasks failed');
    // The other active task finishes; only the waiting ones are canceled.
    expect(second.canceledTasks).toBe(8);
    expect(second.job).toMatchObject({
      tasks_failed: 1,
      tasks_active: 1,
      tasks_canceled: 8,
      tasks_queued: 0,
    });
    await expectCountersMatchRows(db, jobId);

    const third = await db.transaction().execute((trx) => rollUpJob(trx, jobId));
    expect(third).toMatchObject({ previousStatus: 'failed', canceledTasks: 0 });
    expect(third.job.status).toBe('failed');
  });

  it('does not move a task whose status is not in `from`, nor a task of another job', async () => {
    const { db } = getDb();
    const a = await insertJob(db, [[], []]);
    const b = await insertJob(db, [[]]);
    const result = await db.transaction().execute((trx) =>
      transitionTasks(trx, {
        jobId: a.jobId,
        taskIds: [a.taskIds[0]!, b.taskIds[0]!],
        from: ['active'],
        to: 'completed',
      }),
    );
    expect(result.moved).toEqual([]);
    const other = await db.transaction().execute((trx) =>
      transitionTasks(trx, {
        jobId: a.jobId,
        taskIds: [b.taskIds[0]!],
        from: ['queued'],
        to: 'canceled',
      }),
    );
    expect(other.moved).toEqual([]);
    expect([...(await statuses(db, b.jobId)).values()]).toEqual(['queued']);
    await expectCountersMatchRows(db, a.jobId);
    await expectCountersMatchRows(db, b.jobId);
  });
});

function sortById<T extends { id: string }>(items: T[]): T[] {
  return [...items].sort((x, y) => x.id.localeCompare(y.id));
}

describeEachDatabase('task transitions under concurrency', (getDb, backend) => {
  it('never deadlocks and keeps the counters right when workers and job actions race', async () => {
    const { db } = getDb();
    const { jobId, taskIds } = await insertJob(
      db,
      Array.from({ length: 40 }, (_, i) => (i === 0 ? [] : [i - 1])),
    );
    const work: Promise<unknown>[] = [];
    for (let round = 0; round < 4; round += 1) {
      for (const [i, id] of taskIds.entries()) {
        const to = (['active', 'completed', 'failed', 'queued'] as const)[(i + round) % 4]!;
        work.push(
          db.transaction().execute(async (trx) => {
            await transitionTasks(trx, {
              jobId,
              taskIds: [id],
              from: ['queued', 'active', 'completed', 'failed', 'canceled', 'paused'],
              to,
            });
            return rollUpJob(trx, jobId);
          }),
        );
      }
      // A job-wide move in the middle of the workers' reports, as a cancel or requeue is.
      work.push(
        db.transaction().execute(async (trx) => {
          await transitionTasks(trx, {
            jobId,
            from: ['queued', 'failed', 'canceled', 'completed'],
            to: round % 2 === 0 ? 'paused' : 'queued',
          });
          return rollUpJob(trx, jobId);
        }),
      );
    }
    const settled = await Promise.allSettled(work);
    const failures = settled.filter((r) => r.status === 'rejected');
    expect(failures).toEqual([]);
    await expectCountersMatchRows(db, jobId);
    if (backend === 'postgres') expect(work.length).toBe(164);
  });
});
