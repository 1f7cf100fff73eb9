import { applySleepSchedules } from '../../src/duties';
import {
  requestWorkerStatus,
  setWorkerSleepSchedule,
  stateChanged,
} from '../../src/services/workers';
import { describeEachDatabase } from '../support/test-database';
import { seedWorker } from '../scheduler/seed';
import { principal } from '../services/workers/worker-context';
import { createDutyContext, type DutyTestContext } from './duty-context';

// 2026-11-23 is a Monday; New York is on EST (UTC-5) then.
const at = (utc: string) => new Date(`2026-11-23T${utc}:00Z`);

describeEachDatabase(
  'sleep-schedule duty',
  (getDb) => {
    let ctx: DutyTestContext;
    beforeEach(() => {
      ctx = createDutyContext(getDb());
    });
    afterEach(() => ctx.cleanUp());
    const db = () => getDb().db;
    const workerRow = (id: string) =>
      db().selectFrom('workers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    it('an overnight window puts a worker to sleep at 23:00 in its time zone and wakes it at 06:00', async () => {
      const { workerId } = await seedWorker(db(), { name: 'nyc' });
      await setWorkerSleepSchedule(ctx, workerId, {
        isActive: true,
        daysOfWeek: [],
        startTime: '22:00',
        endTime: '06:00',
        timeZone: 'America/New_York',
      });
      // 20:00 in New York: awake already, nothing to ask.
      expect(await applySleepSchedules(ctx, at('01:00'))).toEqual([]);
      // 23:00 in New York.
      expect(await applySleepSchedules(ctx, at('04:00'))).toEqual([{ workerId, status: 'asleep' }]);
      expect(await workerRow(workerId)).toMatchObject({
        status_requested: 'asleep',
        status_requested_lazy: false,
      });
      expect(ctx.pushes).toContainEqual({
        workerId,
        message: { type: 'status-request', status: 'asleep', lazy: false },
      });
      await stateChanged(ctx, principal(workerId, 'nyc'), { status: 'asleep' });
      // Midnight and 05:59: still the same window; nothing more is asked.
      expect(await applySleepSchedules(ctx, at('05:00'))).toEqual([]);
      expect(await applySleepSchedules(ctx, at('10:59'))).toEqual([]);
      // 06:00 in New York.
      expect(await applySleepSchedules(ctx, at('11:00'))).toEqual([{ workerId, status: 'awake' }]);
      expect(await workerRow(workerId)).toMatchObject({
        status: 'asleep',
        status_requested: 'awake',
      });
    });

    it('lets a person`s request stand until the next boundary, and skips workers in error', async () => {
      const { workerId } = await seedWorker(db(), { name: 'late' });
      const broken = await seedWorker(db(), { name: 'broken', status: 'error' });
      for (const id of [workerId, broken.workerId]) {
        await setWorkerSleepSchedule(ctx, id, {
          isActive: true,
          daysOfWeek: [],
          startTime: '22:00',
          endTime: '06:00',
          timeZone: 'Europe/Amsterdam',
        });
      }
      // 23:00 in Amsterdam (UTC+1).
      expect(await applySleepSchedules(ctx, at('22:00'))).toEqual([{ workerId, status: 'asleep' }]);
      await stateChanged(ctx, principal(workerId, 'late'), { status: 'asleep' });
      // Someone needs it tonight.
      await requestWorkerStatus(ctx, workerId, { status: 'awake', lazy: false });
      expect(await applySleepSchedules(ctx, at('23:00'))).toEqual([]);
      expect(await workerRow(workerId)).toMatchObject({ status_requested: 'awake' });
      expect(await workerRow(broken.workerId)).toMatchObject({
        status: 'error',
        status_requested: null,
      });
    });

    it('does not repeat an immediate request the worker already has', async () => {
      const { workerId } = await seedWorker(db(), { statusRequested: 'asleep', lazy: false });
      await setWorkerSleepSchedule(ctx, workerId, {
        isActive: true,
        daysOfWeek: ['mo'],
        startTime: '09:00',
        endTime: '17:00',
        timeZone: 'UTC',
      });
      expect(await applySleepSchedules(ctx, at('10:00'))).toEqual([]);
      expect(ctx.pushes).toEqual([]);
    });
  },
  { resetBetweenTests: true },
);
