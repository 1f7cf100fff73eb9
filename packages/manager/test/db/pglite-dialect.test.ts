import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createDatabase } from '../../src/db';
import {
  createTestDatabase,
  TEST_DATABASE_TIMEOUT_MS,
  type TestDatabase,
} from '../support/test-database';

// What our own PGlite dialect must get right: one session shared safely.
describe('PGlite dialect', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase('pglite');
  }, TEST_DATABASE_TIMEOUT_MS);
  afterAll(() => testDb?.dispose());

  it('runs concurrent transactions one after the other, so none sees another half-done', async () => {
    const { db } = testDb.database;
    await sql`insert into farm_state (key, value) values ('counter', '0')`.execute(db);
    // A read-modify-write race: with interleaving, increments would be lost.
    await Promise.all(
      Array.from({ length: 20 }, () =>
        db.transaction().execute(async (trx) => {
          const row = await trx
            .selectFrom('farm_state')
            .select('value')
            .where('key', '=', 'counter')
            .executeTakeFirstOrThrow();
          await new Promise((resolve) => setImmediate(resolve));
          await trx
            .updateTable('farm_state')
            .set({ value: JSON.stringify((row.value as number) + 1) })
            .where('key', '=', 'counter')
            .execute();
        }),
      ),
    );
    const row = await db
      .selectFrom('farm_state')
      .select('value')
      .where('key', '=', 'counter')
      .executeTakeFirstOrThrow();
    expect(row.value).toBe(20);
  });

  it('rolls back a failed transaction and keeps working afterwards', async () => {
    const { db } = testDb.database;
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('farm_state').values({ key: 'ghost', value: '1' }).execute();
        await trx.insertInto('farm_state').values({ key: 'ghost', value: '2' }).execute();
      }),
    ).rejects.toMatchObject({ code: '23505' });
    const ghost = await db
      .selectFrom('farm_state')
      .selectAll()
      .where('key', '=', 'ghost')
      .execute();
    expect(ghost).toEqual([]);
  });

  it('supports savepoints', async () => {
    const { db } = testDb.database;
    const trx = await db.startTransaction().execute();
    await trx.insertInto('farm_state').values({ key: 'kept', value: '1' }).execute();
    const inner = await trx.savepoint('inner').execute();
    await inner.insertInto('farm_state').values({ key: 'undone', value: '1' }).execute();
    await inner.rollbackToSavepoint('inner').execute();
    await trx.commit().execute();
    const keys = await db
      .selectFrom('farm_state')
      .select('key')
      .where('key', 'in', ['kept', 'undone'])
      .execute();
    expect(keys).toEqual([{ key: 'kept' }]);
  });

  it('refuses to open a data folder another manager has open', async () => {
    await expect(createDatabase({ dataDir: testDb.dataDir! })).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/in use by process \d+/),
    });
  });

  it(
    'takes over a lock left by a process that is gone',
    async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-stale-lock-'));
      try {
        fs.cpSync(path.join(testDb.dataDir!, 'db'), path.join(dataDir, 'db'), { recursive: true });
        fs.writeFileSync(path.join(dataDir, 'db.lock'), '999999999');
        const database = await createDatabase({ dataDir });
        const { rows } = await sql<{ n: number }>`select count(*) as n from projects`.execute(
          database.db,
        );
        expect(rows[0]?.n).toBe(1);
        await database.close();
        expect(fs.existsSync(path.join(dataDir, 'db.lock'))).toBe(false);
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
    TEST_DATABASE_TIMEOUT_MS,
  );
});
