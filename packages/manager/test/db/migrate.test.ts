import { isFarmError } from '@farm/core';
import { sql } from 'kysely';
import {
  appliedMigrations,
  assertSchemaNotNewer,
  migrate,
  MIGRATION_TABLE,
  MIGRATIONS,
  SQLSTATE,
  sqlStateOf,
  TABLE_NAMES,
} from '../../src/db';
import {
  createTestDatabase,
  TEST_DATABASE_TIMEOUT_MS,
  testBackends,
  type TestDatabase,
} from '../support/test-database';

describe.each(testBackends())('migrations [%s]', (backend) => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase(backend, { migrated: false });
  }, TEST_DATABASE_TIMEOUT_MS);
  afterAll(() => testDb?.dispose());

  it('creates every table on an empty database, with the default project', async () => {
    const { db } = testDb.database;
    expect(await appliedMigrations(db)).toEqual([]);

    const result = await migrate(db);

    expect(result).toEqual({
      applied: Object.keys(MIGRATIONS),
      current: Object.keys(MIGRATIONS).at(-1),
    });
    const { rows } = await sql<{ name: string }>`
      select tablename as name from pg_tables where schemaname = 'public' order by 1`.execute(db);
    expect(rows.map((r) => r.name).sort()).toEqual(
      [...TABLE_NAMES, MIGRATION_TABLE, `${MIGRATION_TABLE}_lock`].sort(),
    );
    const projects = await db.selectFrom('projects').select('name').execute();
    expect(projects).toEqual([{ name: 'default' }]);
  });

  it('does nothing the second time', async () => {
    const { db } = testDb.database;
    expect(await migrate(db)).toEqual({ applied: [], current: Object.keys(MIGRATIONS).at(-1) });
    expect(await db.selectFrom('projects').select('name').execute()).toHaveLength(1);
  });

  it('enforces the status CHECK constraints', async () => {
    const { db } = testDb.database;
    const project = await db.selectFrom('projects').select('id').executeTakeFirstOrThrow();
    const insert = db
      .insertInto('jobs')
      .values({
        name: 'bad',
        type: 'simple-blender-render',
        project_id: project.id,
        status: 'running' as never,
      })
      .execute();
    const error: unknown = await insert.catch((e: unknown) => e);
    expect(sqlStateOf(error)).toBe(SQLSTATE.CHECK_VIOLATION);
  });

  it('refuses a database with a migration this build does not know, telling to upgrade', async () => {
    const { db } = testDb.database;
    await sql`insert into ${sql.table(MIGRATION_TABLE)} (name, timestamp)
      values ('0999-from-the-future', ${new Date().toISOString()})`.execute(db);

    const refused: unknown = await migrate(db).catch((e: unknown) => e);

    expect(isFarmError(refused)).toBe(true);
    expect(refused).toMatchObject({ code: 'unavailable' });
    expect((refused as Error).message).toMatch(
      /newer than this Farm manager.*0999-from-the-future/,
    );
    expect((refused as Error).message).toMatch(/Upgrade the manager/);
    await expect(assertSchemaNotNewer(db)).rejects.toMatchObject({ code: 'unavailable' });
  });
});
