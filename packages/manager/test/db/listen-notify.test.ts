import { sql } from 'kysely';
import { LISTENER_APPLICATION_NAME, notifyIn, type FarmDatabase } from '../../src/db';
import {
  createTestDatabase,
  TEST_DATABASE_TIMEOUT_MS,
  testBackends,
  type TestDatabase,
} from '../support/test-database';

/** Collects payloads and lets a test wait for a given number of them. */
function collector() {
  const payloads: string[] = [];
  return {
    payloads,
    onPayload: (payload: string) => {
      payloads.push(payload);
    },
    async waitFor(count: number, timeoutMs = 5_000): Promise<string[]> {
      const deadline = Date.now() + timeoutMs;
      while (payloads.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`got ${payloads.length} of ${count}: ${payloads.join(', ')}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return payloads;
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

describe.each(testBackends())('LISTEN/NOTIFY [%s]', (backend) => {
  let testDb: TestDatabase;
  let sender: FarmDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase(backend);
    // On Postgres the notification crosses connections; PGlite has just the one.
    sender = backend === 'postgres' ? await testDb.openAnother() : testDb.database;
  }, TEST_DATABASE_TIMEOUT_MS);
  afterAll(() => testDb?.dispose());

  it('delivers notifications to a listener, in order, until it unlistens', async () => {
    const received = collector();
    const unlisten = await testDb.database.listen('farm_events', received.onPayload);

    await sender.notify('farm_events', 'one');
    await sender.notify('farm_events', '{"type":"job","id":"two"}');
    expect(await received.waitFor(2)).toEqual(['one', '{"type":"job","id":"two"}']);

    await unlisten();
    await sender.notify('farm_events', 'three');
    await settle();
    expect(received.payloads).toHaveLength(2);
  });

  it('delivers a notification sent in a transaction only when it commits', async () => {
    const received = collector();
    const unlisten = await testDb.database.listen('farm_tx', received.onPayload);

    await sender.db
      .transaction()
      .execute(async (trx) => {
        await notifyIn(trx, 'farm_tx', 'rolled-back');
        throw new Error('abort');
      })
      .catch(() => undefined);
    await sender.db.transaction().execute(async (trx) => {
      await notifyIn(trx, 'farm_tx', 'committed');
      await settle();
      expect(received.payloads).toEqual([]);
    });

    expect(await received.waitFor(1)).toEqual(['committed']);
    await settle();
    expect(received.payloads).toEqual(['committed']);
    await unlisten();
  });

  it('keeps two listeners of one channel independent', async () => {
    const a = collector();
    const b = collector();
    const unlistenA = await testDb.database.listen('farm_two', a.onPayload);
    const unlistenB = await testDb.database.listen('farm_two', b.onPayload);
    await sender.notify('farm_two', 'x');
    await Promise.all([a.waitFor(1), b.waitFor(1)]);
    await unlistenA();
    await sender.notify('farm_two', 'y');
    expect(await b.waitFor(2)).toEqual(['x', 'y']);
    expect(a.payloads).toEqual(['x']);
    await unlistenB();
  });

  it('rejects a channel name that is not a plain identifier', async () => {
    await expect(testDb.database.listen('bad; drop table jobs', () => {})).rejects.toThrow(
      /invalid notification channel/,
    );
  });

  if (backend === 'postgres') {
    it('listens again after its connection is killed, and says so', async () => {
      const received = collector();
      let resubscribed = 0;
      const unlisten = await testDb.database.listen('farm_resilient', received.onPayload, () => {
        resubscribed++;
      });
      await sender.notify('farm_resilient', 'before');
      await received.waitFor(1);

      const killed = await sql<{ killed: boolean }>`
        select pg_terminate_backend(pid) as killed from pg_stat_activity
        where datname = current_database()
          and application_name = ${LISTENER_APPLICATION_NAME}`.execute(sender.db);
      expect(killed.rows).toEqual([{ killed: true }]);
      const deadline = Date.now() + 10_000;
      while (resubscribed === 0 && Date.now() < deadline) await settle();
      expect(resubscribed).toBe(1);

      await sender.notify('farm_resilient', 'after');
      expect(await received.waitFor(2)).toEqual(['before', 'after']);
      await unlisten();
    });
  }
});
