import { sql } from 'kysely';
import winston from 'winston';
import { resolveConfig } from '../../src/config';
import { DUTY_LOCK_NAMESPACE, startDuties, type Duty } from '../../src/duties';
import type { WorkerServiceContext } from '../../src/services/workers';
import {
  createTestDatabase,
  TEST_DATABASE_TIMEOUT_MS,
  type TestDatabase,
} from '../support/test-database';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function dutyContext(): WorkerServiceContext {
  return {
    config: resolveConfig({ env: {}, argv: [] }),
    logger: winston.createLogger({ silent: true }),
  } as WorkerServiceContext;
}

function countingDuty(counter: { n: number }): Duty {
  return {
    name: 'count',
    lockKey: 900,
    intervalMs: 40,
    firstRunAfterMs: 0,
    tick: () => {
      counter.n += 1;
      return Promise.resolve();
    },
  };
}

describe('duties on PGlite', () => {
  it('run periodically in the one process and stop', async () => {
    const counter = { n: 0 };
    const duties = startDuties(
      dutyContext(),
      { kind: 'pglite' },
      { duties: [countingDuty(counter)] },
    );
    await sleep(300);
    await duties.stop();
    const seen = counter.n;
    expect(seen).toBeGreaterThanOrEqual(3);
    await sleep(150);
    expect(counter.n).toBe(seen);
  });
});

const postgres = process.env.FARM_TEST_DATABASE_URL ? describe : describe.skip;

postgres('duties on two replicas of one Postgres database', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
  }, TEST_DATABASE_TIMEOUT_MS);
  afterAll(() => testDb?.dispose());

  it('run on one replica only, and move to the other when it stops', async () => {
    const a = { n: 0 };
    const b = { n: 0 };
    const options = (counter: { n: number }) => ({
      duties: [countingDuty(counter)],
      databaseUrl: testDb.url!,
    });
    const first = startDuties(dutyContext(), { kind: 'postgres' }, options(a));
    await sleep(200);
    const second = startDuties(dutyContext(), { kind: 'postgres' }, options(b));
    await sleep(400);
    expect(a.n).toBeGreaterThanOrEqual(3);
    expect(b.n).toBe(0);

    await first.stop();
    const stoppedAt = a.n;
    await sleep(400);
    expect(b.n).toBeGreaterThanOrEqual(3);
    expect(a.n).toBe(stoppedAt);

    // The holder's connection dies (as when its process is killed): a third replica takes over.
    const c = { n: 0 };
    const third = startDuties(dutyContext(), { kind: 'postgres' }, options(c));
    await sleep(200);
    expect(c.n).toBe(0);
    const { rows } = await sql<{ terminated: boolean }>`
      select pg_terminate_backend(pid) as terminated from pg_locks
      where locktype = 'advisory' and classid = ${DUTY_LOCK_NAMESPACE} and objid = 900
        and granted`.execute(testDb.database.db);
    expect(rows).toEqual([{ terminated: true }]);
    await sleep(500);
    const bAfter = b.n;
    const cAfter = c.n;
    await sleep(300);
    // Exactly one of them goes on ticking.
    expect([b.n > bAfter, c.n > cAfter].filter(Boolean)).toHaveLength(1);
    await second.stop();
    await third.stop();
  });

  it('move a long-interval duty to a standby replica at once, not after its interval', async () => {
    const a = { n: 0 };
    const b = { n: 0 };
    const hourly = (counter: { n: number }): Duty => ({
      ...countingDuty(counter),
      lockKey: 901,
      intervalMs: 3_600_000,
    });
    const context = () => {
      const ctx = dutyContext();
      return { ...ctx, config: { ...ctx.config, dutyIntervalMs: 100 } } as WorkerServiceContext;
    };
    const options = (counter: { n: number }) => ({
      duties: [hourly(counter)],
      databaseUrl: testDb.url!,
    });
    const first = startDuties(context(), { kind: 'postgres' }, options(a));
    await sleep(200);
    const second = startDuties(context(), { kind: 'postgres' }, options(b));
    await sleep(300);
    expect([a.n, b.n]).toEqual([1, 0]);

    await first.stop();
    await sleep(600);
    // The standby asked again within the duty interval, took the lock and ran the duty once.
    expect([a.n, b.n]).toEqual([1, 1]);
    await second.stop();
  });
});
