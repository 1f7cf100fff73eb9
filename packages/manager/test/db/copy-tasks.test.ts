import { randomUUID } from 'node:crypto';
import { isFarmError } from '@farm/core';
import { sql } from 'kysely';
import { insertTasks, type TaskInsert } from '../../src/db/queries/tasks';
import { describeEachDatabase, resetDatabase } from '../support/test-database';

// insertTasks writes COPY's text format itself: every character that format, array literals or
// JSON treat specially must come back exactly as it went in.
const AWKWARD = [
  'tab\there',
  'new\nline',
  'carriage\rreturn',
  'windows\r\nline',
  'back\\slash',
  'C:\\renders\\',
  '\\N',
  '\\.',
  '\\',
  'say "hi"',
  "it's",
  'a,b',
  '{x}',
  'NULL',
  '',
  ' padded ',
  'ünïcödé ✓',
  'emoji 🎬 pair',
  'line\u2028separator',
  'bell\u0007and\u001bescape',
  '\\u0000 written out',
  '\\t\\n',
];

function task(idx: number, fields: Partial<TaskInsert> = {}): TaskInsert {
  return {
    id: randomUUID(),
    idx,
    name: `task ${idx}`,
    type: 'misc',
    priority: 50,
    tags: [],
    commands: [{ name: 'echo', parameters: { message: `hello ${idx}` } }],
    unmetDependencies: 0,
    steps: null,
    status: 'queued',
    ...fields,
  };
}

describeEachDatabase('storing tasks with COPY', (getDb) => {
  let projectId: string;
  beforeEach(async () => {
    const { db } = getDb();
    await resetDatabase(db);
    projectId = (await db.selectFrom('projects').select('id').executeTakeFirstOrThrow()).id;
  });

  async function insertJob(trx: ReturnType<typeof getDb>['db']): Promise<string> {
    const jobId = randomUUID();
    await trx
      .insertInto('jobs')
      .values({ id: jobId, name: 'copy', type: 'echo-sleep-test', project_id: projectId })
      .execute();
    return jobId;
  }

  async function countRows(): Promise<{ jobs: number; tasks: number }> {
    const { rows } = await sql<{ jobs: number; tasks: number }>`
      select (select count(*) from jobs)::int as jobs, (select count(*) from tasks)::int as tasks`.execute(
      getDb().db,
    );
    return rows[0]!;
  }

  it('reads back names, types, tags and commands with tabs, newlines, backslashes, quotes and unicode unchanged', async () => {
    const { db } = getDb();
    const tasks = AWKWARD.map((text, idx) =>
      task(idx, {
        name: text,
        type: `type ${text}`,
        tags: [text, `${text} 2`, 'plain'],
        commands: [
          { name: 'exec', parameters: { exe: text, args: [text, '\\"', '{}', '\t'] } },
          { name: 'echo', parameters: { message: { nested: [text, null, 1.5, true] } } },
        ],
        priority: idx,
        steps: idx % 2 === 0 ? null : idx,
        unmetDependencies: idx % 3,
        status: idx % 2 === 0 ? 'queued' : 'paused',
      }),
    );
    const jobId = await db.transaction().execute(async (trx) => {
      const id = await insertJob(trx);
      // Chunks of 5 rows: several CopyData messages, the last one short.
      await insertTasks(trx, id, tasks, 5);
      return id;
    });

    const rows = await db
      .selectFrom('tasks')
      .select(['id', 'idx', 'name', 'type', 'tags', 'commands', 'priority', 'steps', 'status'])
      .select('unmet_dependencies')
      .where('job_id', '=', jobId)
      .orderBy('idx')
      .execute();
    expect(rows).toEqual(
      tasks.map((t) => ({
        id: t.id,
        idx: t.idx,
        name: t.name,
        type: t.type,
        tags: t.tags,
        commands: t.commands,
        priority: t.priority,
        steps: t.steps,
        status: t.status,
        unmet_dependencies: t.unmetDependencies,
      })),
    );
  });

  it.each([
    ['name', { name: 'nul\u0000name' }],
    ['type', { type: 'misc\u0000' }],
    ['tags', { tags: ['ok', 'nul\u0000tag'] }],
    ['commands', { commands: [{ name: 'exec', parameters: { exe: 'a\u0000b', args: [] } }] }],
    ['name', { name: 'lone \ud800 surrogate' }],
    ['commands', { commands: [{ name: 'echo', parameters: { message: 'lone \udc00' } }] }],
  ] as const)(
    'refuses text Postgres cannot store (%s) as a validation error, and stores nothing',
    async (field, fields) => {
      const { db } = getDb();
      // The bad task comes after two full chunks, which the server has already stored.
      const tasks = Array.from({ length: 25 }, (_, idx) => task(idx, idx === 22 ? fields : {}));
      const error = await db
        .transaction()
        .execute(async (trx) => insertTasks(trx, await insertJob(trx), tasks, 10))
        .then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
      expect(isFarmError(error)).toBe(true);
      expect(error).toMatchObject({
        code: 'validation_failed',
        details: { issues: [{ path: `tasks[22].${field}` }] },
      });
      expect(await countRows()).toEqual({ jobs: 0, tasks: 0 });
      // The connection that held the aborted COPY still works.
      await db
        .transaction()
        .execute(async (trx) => insertTasks(trx, await insertJob(trx), [task(0)]));
      expect(await countRows()).toEqual({ jobs: 1, tasks: 1 });
    },
  );

  it('stores nothing, not even the job row, when the database refuses a row mid-COPY', async () => {
    const { db } = getDb();
    // Index 3 again in the third chunk: (job_id, idx) is unique.
    const tasks = [...Array.from({ length: 25 }, (_, idx) => task(idx)), task(3)];
    await expect(
      db.transaction().execute(async (trx) => insertTasks(trx, await insertJob(trx), tasks, 10)),
    ).rejects.toThrow(/duplicate key|unique/);
    expect(await countRows()).toEqual({ jobs: 0, tasks: 0 });
    await db
      .transaction()
      .execute(async (trx) => insertTasks(trx, await insertJob(trx), [task(0)]));
    expect(await countRows()).toEqual({ jobs: 1, tasks: 1 });
  });

  it('deletes a job with its tasks, their dependencies and failures', async () => {
    const { db } = getDb();
    const tasks = [task(0), task(1, { unmetDependencies: 1 })];
    const jobId = await db.transaction().execute(async (trx) => {
      const id = await insertJob(trx);
      await insertTasks(trx, id, tasks);
      await trx
        .insertInto('task_dependencies')
        .values({ task_id: tasks[1]!.id, depends_on_id: tasks[0]!.id })
        .execute();
      return id;
    });
    const worker = await db
      .insertInto('workers')
      .values({ name: 'w', token_hash: 'h' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('task_failures')
      .values({ task_id: tasks[0]!.id, worker_id: worker.id })
      .execute();

    await db.deleteFrom('jobs').where('id', '=', jobId).execute();
    const { rows } = await sql<{ tasks: number; dependencies: number; failures: number }>`
      select (select count(*) from tasks)::int as tasks,
        (select count(*) from task_dependencies)::int as dependencies,
        (select count(*) from task_failures)::int as failures`.execute(db);
    expect(rows[0]).toEqual({ tasks: 0, dependencies: 0, failures: 0 });
  });
});
