import { heartbeat, requestWorkerStatus } from '../../../src/services/workers';
import {
  createWorkerPresence,
  type WorkerPresence,
} from '../../../src/services/workers/worker-presence';
import { describeEachDatabase } from '../../support/test-database';
import { seedWorker } from '../../scheduler/seed';
import { createTestWorkerContext, principal, type TestWorkerContext } from './worker-context';

describeEachDatabase(
  'heartbeats kept in memory',
  (getDb) => {
    let ctx: TestWorkerContext & { presence: WorkerPresence };
    beforeEach(() => {
      const base = createTestWorkerContext(getDb());
      // A long interval: the test decides when the batch is written.
      const presence = createWorkerPresence(base.db, {
        flushIntervalMs: 60_000,
        onError: (error) => {
          throw error;
        },
      });
      ctx = Object.assign(base, { presence });
      // As the manager does: every worker event reaches the presence.
      const publish = base.publish;
      ctx.publish = (event) => {
        publish(event);
        presence.onEvent(event);
      };
    });
    afterEach(async () => {
      await ctx.presence.close();
      await ctx.cleanUp();
    });
    const db = () => getDb().db;
    const lastSeen = async (workerId: string) =>
      await db()
        .selectFrom('workers')
        .select(['last_seen_at', 'host_stats'])
        .where('id', '=', workerId)
        .executeTakeFirstOrThrow();

    it('writes heartbeats in one batch, with host stats, and only then', async () => {
      const a = await seedWorker(db(), { name: 'a' });
      const b = await seedWorker(db(), { name: 'b' });
      const hostStats = {
        cpuPercent: 12,
        memoryUsedBytes: 1,
        memoryTotalBytes: 2,
        load1: 0.5,
        diskFreeBytes: 3,
        at: '2026-11-22T10:00:00.000Z',
      };
      expect(await heartbeat(ctx, principal(a.workerId, 'a'), { hostStats })).toEqual({
        statusRequested: null,
        lazy: false,
      });
      await heartbeat(ctx, principal(b.workerId, 'b'), undefined);
      expect((await lastSeen(a.workerId)).last_seen_at).toBeNull();
      const before = Date.now();
      await ctx.presence.flush();
      const seenA = await lastSeen(a.workerId);
      expect(seenA.last_seen_at!.getTime()).toBeGreaterThan(before - 60_000);
      expect(seenA.host_stats).toMatchObject({ cpuPercent: 12 });
      expect((await lastSeen(b.workerId)).last_seen_at).not.toBeNull();
    });

    it('answers from memory, and a status request reaches the next heartbeat at once', async () => {
      const { workerId } = await seedWorker(db(), { name: 'w' });
      const me = principal(workerId, 'w');
      expect(await heartbeat(ctx, me, undefined)).toEqual({ statusRequested: null, lazy: false });
      await requestWorkerStatus(ctx, workerId, { status: 'asleep', lazy: true });
      expect(await heartbeat(ctx, me, undefined)).toEqual({
        statusRequested: 'asleep',
        lazy: true,
      });
      // A change no event announced (another tool wrote the row) is read back by the next batch.
      await db()
        .updateTable('workers')
        .set({ status: 'error', status_requested: null, status_requested_lazy: false })
        .where('id', '=', workerId)
        .execute();
      await ctx.presence.flush();
      expect(await heartbeat(ctx, me, undefined)).toEqual({
        statusRequested: 'awake',
        lazy: false,
      });
    });

    it('a heartbeat of a deleted worker is refused', async () => {
      await expect(
        heartbeat(ctx, principal('00000000-0000-4000-8000-000000000000'), undefined),
      ).rejects.toMatchObject({ code: 'not_found' });
    });
  },
  { resetBetweenTests: true },
);
