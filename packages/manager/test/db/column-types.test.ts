import { sql } from 'kysely';
import { describeEachDatabase } from '../support/test-database';

// The API layer serialises rows without caring which engine produced them, so both engines must
// hand back the same JS types.
describeEachDatabase('column types', (getDb) => {
  it('returns timestamptz as Date, int8 as number, jsonb parsed and text[] as arrays', async () => {
    const { db } = getDb();
    const project = await db.selectFrom('projects').select('id').executeTakeFirstOrThrow();
    const notBefore = new Date('2026-11-22T10:00:00.123Z');
    const job = await db
      .insertInto('jobs')
      .values({
        name: 'types',
        type: 'echo-sleep-test',
        project_id: project.id,
        settings: JSON.stringify({ frames: '1-10', fps: 24, nested: [1, { a: null }] }),
        metadata: JSON.stringify({ shot: 'sh010' }),
        required_tags: ['gpu', 'linux'],
        not_before: notBefore,
      })
      .returningAll()
      .executeTakeFirstOrThrow();

    expect(job.created_at).toBeInstanceOf(Date);
    expect(job.not_before).toEqual(notBefore);
    expect(job.settings).toEqual({ frames: '1-10', fps: 24, nested: [1, { a: null }] });
    expect(job.metadata).toEqual({ shot: 'sh010' });
    expect(job.required_tags).toEqual(['gpu', 'linux']);
    expect(job.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(job.tasks_total).toBe(0);

    const task = await db
      .insertInto('tasks')
      .values({
        job_id: job.id,
        idx: 0,
        name: 'task 0',
        type: 'misc',
        commands: JSON.stringify([{ name: 'echo', parameters: { message: 'hi' } }]),
        log_size: 5_000_000_000,
      })
      .returning(['log_size', 'progress', 'commands', 'tags', 'last_touched_at'])
      .executeTakeFirstOrThrow();
    expect(task).toEqual({
      log_size: 5_000_000_000,
      progress: 0,
      commands: [{ name: 'echo', parameters: { message: 'hi' } }],
      tags: [],
      last_touched_at: null,
    });

    const counts = await db
      .selectFrom('tasks')
      .select((eb) => [eb.fn.countAll().as('count'), eb.fn.sum<number>('log_size').as('sum')])
      .executeTakeFirstOrThrow();
    expect(counts.count).toBe(1);
    // sum(bigint) is numeric, which both engines return as an exact string.
    expect(counts.sum).toBe('5000000000');

    const event = await db
      .insertInto('events')
      .values({ type: 'job-created', job_id: job.id, payload: JSON.stringify({ by: 'test' }) })
      .returning(['id', 'created_at', 'payload'])
      .executeTakeFirstOrThrow();
    expect(typeof event.id).toBe('number');
    expect(event.created_at).toBeInstanceOf(Date);
    expect(event.payload).toEqual({ by: 'test' });

    const { rows } = await sql<{
      big: number | bigint;
    }>`select 9007199254740993::int8 as big`.execute(db);
    // Past 2^53 a number would be silently wrong; both engines switch to an exact bigint.
    expect(rows[0]?.big).toBe(9007199254740993n);
  });

  it('reports affected rows of updates and deletes', async () => {
    const { db } = getDb();
    const result = await db
      .updateTable('projects')
      .set({ description: 'changed' })
      .where('name', '=', 'default')
      .executeTakeFirst();
    expect(result.numUpdatedRows).toBe(1n);
    const none = await db.deleteFrom('projects').where('name', '=', 'nope').executeTakeFirst();
    expect(none.numDeletedRows).toBe(0n);
  });
});
