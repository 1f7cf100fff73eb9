import type { FarmDatabase } from '../db';
import type { WorkerServiceContext } from '../services/workers/worker-deps';
import { cleanUp } from './clean-up';
import { createDutyLock } from './duty-lock';
import { repairState } from './repair';
import { applySleepSchedules } from './sleep-schedules';
import { checkTaskTimeouts } from './task-timeouts';
import { checkWorkerTimeouts } from './worker-timeouts';

/** A periodic job of the manager that must run on one replica at a time. */
export interface Duty {
  name: string;
  /** Its advisory lock number (unique per duty, never reused for another duty). */
  lockKey: number;
  intervalMs: number;
  /** The first run's delay. @default intervalMs */
  firstRunAfterMs?: number;
  tick(): Promise<unknown>;
}

export interface StartDutiesOptions {
  /** Replaces the manager's duties (tests). */
  duties?: readonly Duty[];
  /** Run beside the manager's duties (each brings its own lock number). */
  extraDuties?: readonly Duty[];
  /** The Postgres URL for the lock connection. @default ctx.config.databaseUrl */
  databaseUrl?: string;
}

/** Running duties. */
export interface RunningDuties {
  /** Stops the timers, waits for running ticks, and releases the locks. */
  stop(): Promise<void>;
}

/** Lock numbers: fixed forever, so replicas of different versions still exclude each other. */
export const DUTY_LOCK_KEYS = {
  timeouts: 1,
  sleepSchedules: 2,
  repair: 3,
  cleanUp: 4,
  /** The file store's garbage collection (file-store-gc.ts; started by the composition). */
  fileStoreGc: 10,
  /** Firing due schedules and releasing waiting jobs (schedule-duties.ts; issue 10). */
  schedules: 11,
  waitingJobs: 12,
} as const;

const MINUTE_MS = 60_000;
/** Workers beat every 10 s and a busy worker's touch is throttled to 5 s. */
const MIN_SAFE_WORKER_TIMEOUT_MS = 15_000;

/**
 * The manager's duties and their intervals: timeouts every `duty_interval` (first after a grace
 * of `worker_timeout`, so workers can reconnect to a manager that was down), sleep schedules at
 * least every minute, repair at once and then every 5 minutes at most, clean-up hourly at most.
 */
export function managerDuties(ctx: WorkerServiceContext): Duty[] {
  const every = Math.max(ctx.config.dutyIntervalMs, 100);
  return [
    {
      name: 'timeouts',
      lockKey: DUTY_LOCK_KEYS.timeouts,
      intervalMs: every,
      firstRunAfterMs: Math.max(every, ctx.config.workerTimeoutMs),
      tick: async () => {
        await checkWorkerTimeouts(ctx);
        await checkTaskTimeouts(ctx);
      },
    },
    {
      name: 'sleep-schedules',
      lockKey: DUTY_LOCK_KEYS.sleepSchedules,
      intervalMs: Math.min(every, MINUTE_MS),
      firstRunAfterMs: 0,
      tick: () => applySleepSchedules(ctx),
    },
    {
      name: 'repair',
      lockKey: DUTY_LOCK_KEYS.repair,
      intervalMs: Math.min(Math.max(every, MINUTE_MS), 5 * MINUTE_MS),
      firstRunAfterMs: 0,
      tick: () => repairState(ctx),
    },
    {
      name: 'clean-up',
      lockKey: DUTY_LOCK_KEYS.cleanUp,
      intervalMs: Math.max(every, 60 * MINUTE_MS),
      firstRunAfterMs: Math.min(every, MINUTE_MS),
      tick: () => cleanUp(ctx),
    },
  ];
}

/**
 * Starts the periodic duties. Each tick first takes the duty's Postgres advisory lock on a
 * connection of its own (`pg_try_advisory_lock`): the replica holding it runs the duty, the
 * others skip it; when the holder dies or loses its connection, the lock is released and the next
 * replica to tick takes the duty over. On PGlite (one process) the lock is always ours.
 */
export function startDuties(
  ctx: WorkerServiceContext,
  database: Pick<FarmDatabase, 'kind'>,
  options: StartDutiesOptions = {},
): RunningDuties {
  const workerTimeoutMs = ctx.config.workerTimeoutMs;
  if (workerTimeoutMs > 0 && workerTimeoutMs < MIN_SAFE_WORKER_TIMEOUT_MS) {
    // Found by the chaos suite: healthy workers were marked error and their results thrown away.
    ctx.logger.warn('worker_timeout is shorter than a worker`s heartbeat allows', {
      workerTimeoutMs,
      advisedAtLeastMs: MIN_SAFE_WORKER_TIMEOUT_MS,
    });
  }
  const lock = createDutyLock(database, options.databaseUrl ?? ctx.config.databaseUrl, ctx.logger);
  const duties = [...(options.duties ?? managerDuties(ctx)), ...(options.extraDuties ?? [])];
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let stopped = false;
  // A replica that does not hold a duty's lock asks again this often, not once per interval of
  // the duty: otherwise an hourly duty would wait up to an hour to move when its holder dies.
  const standbyMs = Math.max(ctx.config.dutyIntervalMs, 100);

  const schedule = (duty: Duty, delayMs: number) => {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      const run: Promise<void> = runOnce(duty)
        .catch(() => false)
        .then((held) => {
          running.delete(run);
          schedule(duty, held ? duty.intervalMs : Math.min(duty.intervalMs, standbyMs));
        });
      running.add(run);
    }, delayMs);
    timer.unref();
    timers.add(timer);
  };

  /** Runs the duty if this replica holds its lock; resolves whether it does. */
  const runOnce = async (duty: Duty): Promise<boolean> => {
    if (stopped) return false;
    try {
      if (!(await lock.tryAcquire(duty.lockKey))) return false;
    } catch (error) {
      ctx.logger.warn('duty skipped: its lock could not be checked', {
        duty: duty.name,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
    if (stopped) return true;
    try {
      await duty.tick();
    } catch (error) {
      ctx.logger.error('duty failed', {
        duty: duty.name,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    return true;
  };

  for (const duty of duties) schedule(duty, duty.firstRunAfterMs ?? duty.intervalMs);

  return {
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all([...running]);
      await lock.close();
    },
  };
}
