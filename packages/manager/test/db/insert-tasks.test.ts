import { randomUUID } from 'node:crypto';
import {
  insertTasks,
  insertTasksWithJson,
  insertTasksWithLiterals,
  type TaskInsert,
} from '../../src/db/queries/tasks';
import { describeEachDatabase, resetDatabase } from '../support/test-database';

// Text that means something in JSON or in Postgres's array syntax (quotes, backslashes, commas,
// braces, the word NULL) must come back exactly as it went in. insertTasksWithLiterals, the
// benchmark's alternative, writes array literals itself.
const AWKWARD = ['say "hi"', 'C:\\renders\\', 'a,b', '{x}', 'NULL', '', ' padded ', 'ünïcödé ✓'];

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

describe.each([
  ['insertTasks', insertTasks],
  ['insertTasksWithJson', insertTasksWithJson],
  ['insertTasksWithLiterals', insertTasksWithLiterals],
] as const)('%s', (_name, insertTasks) => {
  describeEachDatabase('storing tasks', (getDb) => {
    let jobId: string;
    beforeEach(async () => {
      const { db } = getDb();
      await resetDatabase(db);
      const project = await db.selectFrom('projects').select('id').executeTakeFirstOrThrow();
      jobId = randomUUID();
      await db
        .insertInto('jobs')
        .values({ id: jobId, name: 'insert', type: 'echo-sleep-test', project_id: project.id })
        .execute();
    });

    it('stores names, types, tags and commands with characters of the array syntax unchanged', async () => {
      const { db } = getDb();
      const tasks = AWKWARD.map((text, idx) =>
        task(idx, {
          name: `name ${text}`,
          type: `type ${text}`,
          tags: [text, `${text} 2`],
          commands: [{ name: 'exec', parameters: { exe: text, args: [text, '\\"', '{}'] } }],
          priority: idx * 10,
          steps: idx % 2 === 0 ? null : idx,
          unmetDependencies: idx,
          status: idx % 2 === 0 ? 'queued' : 'paused',
        }),
      );
      await db.transaction().execute((trx) => insertTasks(trx, jobId, tasks));

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

    it('keeps every task with its own commands across batches', async () => {
      const { db } = getDb();
      const tasks = Array.from({ length: 25 }, (_, idx) => task(idx));
      // Batches of 10: three statements, the last one short.
      await db.transaction().execute((trx) => insertTasks(trx, jobId, tasks, 10));
      const rows = await db
        .selectFrom('tasks')
        .select(['idx', 'commands'])
        .where('job_id', '=', jobId)
        .orderBy('idx')
        .execute();
      expect(rows).toEqual(tasks.map((t) => ({ idx: t.idx, commands: t.commands })));
    });

    it('fails the whole transaction when a batch is refused', async () => {
      const { db } = getDb();
      // The second batch repeats an index of the first: (job_id, idx) is unique.
      const tasks = [...Array.from({ length: 10 }, (_, idx) => task(idx)), task(3)];
      await expect(
        db.transaction().execute((trx) => insertTasks(trx, jobId, tasks, 10)),
      ).rejects.toThrow(/duplicate key|unique/);
      const count = await db
        .selectFrom('tasks')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('job_id', '=', jobId)
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(0);
    });
  });
});
