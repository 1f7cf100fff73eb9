import { describeEachDatabase, resetDatabase } from '../support/test-database';

describeEachDatabase('resetDatabase', (getDb) => {
  it('empties every table and puts the default project back', async () => {
    const { db } = getDb();
    const project = await db
      .insertInto('projects')
      .values({ name: 'other' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('jobs')
      .values({ name: 'j', type: 'echo-sleep-test', project_id: project.id })
      .execute();
    await db.insertInto('events').values({ type: 'x' }).execute();

    await resetDatabase(db);

    expect(await db.selectFrom('jobs').selectAll().execute()).toEqual([]);
    expect(await db.selectFrom('projects').select('name').execute()).toEqual([{ name: 'default' }]);
    // Identities restart, so ids in one test do not depend on the tests before it.
    const event = await db
      .insertInto('events')
      .values({ type: 'y' })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect(event.id).toBe(1);
  });
});
