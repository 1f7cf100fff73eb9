import { heartbeat, signOn } from '../../../src/services/workers';
import { describeEachDatabase } from '../../support/test-database';
import { seedWorker } from '../../scheduler/seed';
import { createTestWorkerContext, principal, type TestWorkerContext } from './worker-context';

const stats = (cpuPercent: number, at: string) => ({
  cpuPercent,
  memoryUsedBytes: 2_000_000_000,
  memoryTotalBytes: 8_000_000_000,
  load1: 1.5,
  diskFreeBytes: 50_000_000_000,
  at,
});

describeEachDatabase(
  'host stats in live worker events',
  (getDb) => {
    let ctx: TestWorkerContext;
    beforeEach(() => {
      ctx = createTestWorkerContext(getDb());
    });
    afterEach(() => ctx.cleanUp());

    it('a heartbeat with stats publishes them in worker-stats; one without publishes nothing', async () => {
      const { workerId } = await seedWorker(getDb().db, { status: 'awake' });
      const me = principal(workerId);
      await heartbeat(ctx, me, { hostStats: stats(42.5, '2026-11-22T10:00:00.000Z') });
      await heartbeat(ctx, me, undefined);
      await heartbeat(ctx, me, { hostStats: stats(80, '2026-11-22T10:00:10.000Z') });
      expect(ctx.events).toEqual([
        { type: 'worker-stats', workerId, hostStats: stats(42.5, '2026-11-22T10:00:00.000Z') },
        { type: 'worker-stats', workerId, hostStats: stats(80, '2026-11-22T10:00:10.000Z') },
      ]);
    });

    it('sign-on publishes the worker and then the stats it signs on with', async () => {
      const { workerId } = await seedWorker(getDb().db, { status: 'offline' });
      await signOn(ctx, principal(workerId), {
        name: 'render-01',
        platform: 'linux',
        taskTypes: ['misc'],
        version: '1.0',
        hostStats: stats(5, '2026-11-22T10:00:00.000Z'),
      });
      expect(ctx.events.map((e) => e.type)).toEqual(['worker-updated', 'worker-stats']);
      expect(ctx.events[1]).toMatchObject({ workerId, hostStats: { cpuPercent: 5 } });
    });
  },
  { resetBetweenTests: true },
);
