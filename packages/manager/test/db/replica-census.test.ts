import { Client } from 'pg';
import { LISTENER_APPLICATION_NAME } from '../../src/db';
import { startReplicaCensus, type ReplicaCensus } from '../../src/db/replica-census';
import {
  createTestDatabase,
  TEST_DATABASE_TIMEOUT_MS,
  testBackends,
  type TestDatabase,
} from '../support/test-database';

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(testBackends())('replica census [%s]', (backend) => {
  let testDb: TestDatabase;
  let census: ReplicaCensus | undefined;
  beforeAll(async () => {
    testDb = await createTestDatabase(backend);
  }, TEST_DATABASE_TIMEOUT_MS);
  afterEach(() => census?.stop());
  afterAll(() => testDb?.dispose());

  it('a manager alone stops notifying; a second listening replica or a hello makes it notify again', async () => {
    const unlisten = await testDb.database.listen('census_test', () => undefined);
    census = startReplicaCensus(testDb.database, { intervalMs: 50 });
    await until(() => !census!.othersPresent());
    census.heardFromAnother();
    if (backend === 'pglite') {
      // One process owns a PGlite folder: never anyone to notify, whatever was heard.
      expect(census.othersPresent()).toBe(false);
      await unlisten();
      return;
    }
    expect(census.othersPresent()).toBe(true);
    // The hello is remembered for two intervals, then the count decides again.
    await until(() => !census!.othersPresent());
    // Another replica's LISTEN connection, as `openPostgres` names it.
    const other = new Client({
      connectionString: testDb.url,
      application_name: LISTENER_APPLICATION_NAME,
    });
    await other.connect();
    await other.query('listen census_test');
    await until(() => census!.othersPresent());
    await other.end();
    await until(() => !census!.othersPresent());
    await unlisten();
  });
});
