import { isFarmError } from '@farm/core';
import {
  createWorkerTokenAuthenticator,
  deleteWorker,
  getWorker,
  getWorkerSleepSchedule,
  isSleepTime,
  listWorkers,
  registerWorker,
  setWorkerSleepSchedule,
  setWorkerTags,
  storeRegistrationSecret,
  validateSleepSchedule,
} from '../../../src/services/workers';
import { describeEachDatabase } from '../../support/test-database';
import { seedJob, seedWorker } from '../../scheduler/seed';
import { claimWork } from '../../../src/services/workers';
import { createTestWorkerContext, principal, type TestWorkerContext } from './worker-context';

async function errorOf(
  promise: Promise<unknown>,
): Promise<{ code: string; details?: unknown; issues: unknown[] }> {
  try {
    await promise;
  } catch (error) {
    if (isFarmError(error))
      return { code: error.code, details: error.details, issues: error.issues };
    throw error;
  }
  throw new Error('expected an error');
}

describeEachDatabase(
  'worker registration and management',
  (getDb) => {
    let ctx: TestWorkerContext;
    beforeEach(() => {
      ctx = createTestWorkerContext(getDb());
    });
    afterEach(() => ctx.cleanUp());
    const db = () => getDb().db;
    const registration = { name: 'render-01', platform: 'linux' as const, taskTypes: ['blender'] };

    it('registers with the farm secret only; the token is stored hashed and authenticates', async () => {
      await storeRegistrationSecret(db(), 'the-farm-secret');
      const stored = await db().selectFrom('farm_state').selectAll().execute();
      expect(JSON.stringify(stored)).not.toContain('the-farm-secret');
      expect((await errorOf(registerWorker(ctx, { ...registration, secret: 'wrong' }))).code).toBe(
        'forbidden',
      );
      expect(await db().selectFrom('workers').selectAll().execute()).toHaveLength(0);
      const { workerId, token } = await registerWorker(ctx, {
        ...registration,
        secret: 'the-farm-secret',
      });
      expect(token).toMatch(/^farm_w_[A-Za-z0-9_-]{43}$/);
      const row = await db()
        .selectFrom('workers')
        .selectAll()
        .where('id', '=', workerId)
        .executeTakeFirstOrThrow();
      expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.token_hash).not.toContain(token);
      const authenticate = createWorkerTokenAuthenticator(db(), { cacheMs: 0 });
      expect(await authenticate(token)).toEqual({ kind: 'worker', workerId, name: 'render-01' });
      expect(await authenticate(`${token}x`)).toBeNull();
      expect(await authenticate('farm_u_user-token')).toBeNull();
    });

    it('caches no answer read while the token was being revoked', async () => {
      await storeRegistrationSecret(db(), 'the-farm-secret');
      const { workerId, token } = await registerWorker(ctx, {
        ...registration,
        secret: 'the-farm-secret',
      });
      const authenticate = createWorkerTokenAuthenticator(db(), { cacheMs: 60_000 });
      // The lookup reads the row before the revocation lands; `forget` runs while it is in flight.
      const inFlight = authenticate(token);
      authenticate.forget(workerId);
      expect(await inFlight).toMatchObject({ workerId });
      await db()
        .updateTable('workers')
        .set({ token_hash: 'revoked' })
        .where('id', '=', workerId)
        .execute();
      expect(await authenticate(token)).toBeNull();
    });

    it('lists and gets workers with their current task', async () => {
      const { taskIds, jobId } = await seedJob(db());
      const busy = await seedWorker(db(), { name: 'b-busy' });
      await seedWorker(db(), { name: 'a-idle', status: 'asleep' });
      await claimWork(ctx, principal(busy.workerId, 'b-busy'));
      const list = await listWorkers(ctx);
      expect(list.items.map((w) => [w.name, w.currentTask?.id ?? null])).toEqual([
        ['a-idle', null],
        ['b-busy', taskIds[0]],
      ]);
      expect((await listWorkers(ctx, { status: ['asleep'] })).items.map((w) => w.name)).toEqual([
        'a-idle',
      ]);
      const worker = await getWorker(ctx, busy.workerId);
      expect(worker).toMatchObject({
        name: 'b-busy',
        currentTask: { id: taskIds[0], jobId },
        taskTypes: ['misc', 'blender'],
        sleepSchedule: null,
      });
      expect((await errorOf(getWorker(ctx, '00000000-0000-4000-8000-000000000000'))).code).toBe(
        'not_found',
      );
    });

    it('sets tags, which make tagged jobs claimable, and publishes worker-updated', async () => {
      await seedJob(db(), { requiredTags: ['gpu'] });
      const { workerId } = await seedWorker(db());
      expect(await claimWork(ctx, principal(workerId))).toEqual({ kind: 'none' });
      expect((await setWorkerTags(ctx, workerId, ['gpu'])).tags).toEqual(['gpu']);
      expect(ctx.events.some((e) => e.type === 'worker-updated')).toBe(true);
      expect(await claimWork(ctx, principal(workerId))).toMatchObject({ kind: 'task' });
    });

    it('stores sleep schedules with validation (HH:MM, IANA zone)', async () => {
      const { workerId } = await seedWorker(db());
      expect(await getWorkerSleepSchedule(ctx, workerId)).toBeNull();
      const schedule = {
        isActive: true,
        daysOfWeek: ['mo' as const],
        startTime: '22:00',
        endTime: '06:00',
        timeZone: 'Europe/Amsterdam',
      };
      expect(await setWorkerSleepSchedule(ctx, workerId, schedule)).toEqual(schedule);
      expect(await getWorkerSleepSchedule(ctx, workerId)).toEqual(schedule);
      const bad = await errorOf(
        setWorkerSleepSchedule(ctx, workerId, {
          ...schedule,
          timeZone: 'Mars/Olympus',
          startTime: '24:30',
        }),
      );
      expect(bad.code).toBe('validation_failed');
      expect(bad.issues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: 'body.timeZone' }),
          expect.objectContaining({ path: 'body.startTime' }),
        ]),
      );
      expect(await getWorkerSleepSchedule(ctx, workerId)).toEqual(schedule);
    });

    it('deletes only offline or error workers (409 worker-not-offline otherwise)', async () => {
      const awake = await seedWorker(db());
      const offline = await seedWorker(db(), { status: 'offline' });
      const refused = await errorOf(deleteWorker(ctx, awake.workerId));
      expect(refused).toMatchObject({
        code: 'conflict',
        details: { reason: 'worker-not-offline' },
      });
      await deleteWorker(ctx, offline.workerId);
      expect(await db().selectFrom('workers').select('id').execute()).toEqual([
        { id: awake.workerId },
      ]);
      expect(ctx.events).toContainEqual({ type: 'worker-deleted', workerId: offline.workerId });
      expect((await errorOf(deleteWorker(ctx, offline.workerId))).code).toBe('not_found');
    });
  },
  { resetBetweenTests: true },
);

describe('sleep schedule rules', () => {
  const at = (iso: string) => new Date(iso);
  it('sleeps inside a daytime window, in the schedule`s zone', () => {
    const s = {
      daysOfWeek: [],
      startTime: '09:00',
      endTime: '17:00',
      timeZone: 'America/New_York',
    };
    expect(isSleepTime(s, at('2026-11-23T14:00:00Z'))).toBe(true); // 09:00 in New York
    expect(isSleepTime(s, at('2026-11-23T13:59:00Z'))).toBe(false);
    expect(isSleepTime(s, at('2026-11-23T22:00:00Z'))).toBe(false); // 17:00: the end is excluded
  });

  it('handles overnight windows (22:00–06:00) and counts the day the window started', () => {
    // 2026-11-23 is a Monday.
    const s = {
      daysOfWeek: ['mo' as const],
      startTime: '22:00',
      endTime: '06:00',
      timeZone: 'UTC',
    };
    expect(isSleepTime(s, at('2026-11-23T23:30:00Z'))).toBe(true); // Monday night
    expect(isSleepTime(s, at('2026-11-24T05:59:00Z'))).toBe(true); // Tuesday morning, Monday's window
    expect(isSleepTime(s, at('2026-11-24T06:00:00Z'))).toBe(false);
    expect(isSleepTime(s, at('2026-11-24T12:00:00Z'))).toBe(false); // midday: awake (Flamenco slept here)
    expect(isSleepTime(s, at('2026-11-23T05:00:00Z'))).toBe(false); // Monday morning is Sunday's window
  });

  it('rejects bad times and unknown zones', () => {
    expect(() =>
      validateSleepSchedule({
        isActive: true,
        daysOfWeek: [],
        startTime: '7:00',
        endTime: '08:00',
        timeZone: 'UTC',
      }),
    ).toThrow(/invalid/);
    expect(() =>
      validateSleepSchedule({
        isActive: true,
        daysOfWeek: [],
        startTime: '07:00',
        endTime: '08:00',
        timeZone: 'Nowhere/City',
      }),
    ).toThrow(/invalid/);
    expect(() =>
      validateSleepSchedule({
        isActive: true,
        daysOfWeek: [],
        startTime: '07:00',
        endTime: '08:00',
        timeZone: 'Asia/Tokyo',
      }),
    ).not.toThrow();
  });
});
