import { createTransport } from 'nodemailer';
import type { BroadcastEvent } from '@farm/core';
import type { ServiceContext } from '../service-context';
import { deliverDue, nextDueAt, pruneDeliveryLog, type SendMail } from './deliver-notifications';
import { captureEvent, type CapturedEvent } from './notification-message';
import { checkFarmIdle, fanOutEvents, storeEvents } from './notification-outbox';

/** How often each replica looks for work in the outbox when nothing woke it. */
export const NOTIFICATION_POLL_MS = 2_000;
/** How often the set of subscribed events is re-read (changes made on other replicas). */
const WANTED_REFRESH_MS = 10_000;
/** How often old entries of the delivery log are removed (any replica may; it is idempotent). */
const PRUNE_EVERY_MS = 60 * 60_000;

/** The notification machinery of one replica. */
export interface Notifications {
  /** Feeds a live event (before coalescing, on the replica that made the change). */
  capture(event: BroadcastEvent): void;
  /** A subscription changed here: re-read which events anyone wants. */
  changed(): void;
  /** Looks at the outbox now (after a test notification was queued). */
  wake(): void;
  /** Stops the loop and waits for the round in progress (leases of unsent ones run out). */
  stop(): Promise<void>;
}

/**
 * Starts notifications: events of the bus that someone subscribed to are captured into the
 * outbox table on the replica that published them (so each is stored once, not once per replica
 * that hears it), then fanned out to deliveries and sent by whichever replica claims them first
 * (see `fanOutEvents`, `deliverDue`). Every replica runs the loop; SKIP LOCKED and leases keep
 * them from sending anything twice.
 */
export function createNotifications(
  ctx: ServiceContext,
  options: { pollIntervalMs?: number } = {},
): Notifications {
  const pollMs = options.pollIntervalMs ?? NOTIFICATION_POLL_MS;
  let wanted: Set<string> | null = null;
  let wantedAt = 0;
  let prunedAt = 0;
  let pending: CapturedEvent[] = [];
  let flushing: Promise<void> | null = null;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  // Side work (idle checks, refreshes) that stop() must wait for before the database closes.
  const inflight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>): void => {
    inflight.add(work);
    void work.finally(() => inflight.delete(work));
  };

  let sendMail: SendMail | undefined;
  if (ctx.config.smtpUrl) {
    const transport = createTransport(ctx.config.smtpUrl);
    sendMail = async (mail) => {
      await transport.sendMail({ from: ctx.config.smtpFrom, ...mail });
    };
  }

  const refreshWanted = async () => {
    const rows = await ctx.db
      .selectFrom('notification_subscriptions')
      .select('events')
      .where('enabled', '=', true)
      .execute();
    wanted = new Set(rows.flatMap((row) => row.events));
    wantedAt = Date.now();
  };

  /** One round: fan out the outbox, send what is due; resolves the delay until the next round. */
  const round = async (): Promise<number> => {
    if (Date.now() - wantedAt > WANTED_REFRESH_MS) await refreshWanted();
    if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = Date.now();
      await pruneDeliveryLog(ctx.db);
    }
    while (!stopped && (await fanOutEvents(ctx.db)) > 0) {
      // until the outbox is empty
    }
    while (!stopped && (await deliverDue(deliveryOptions)) > 0) {
      // until nothing is due
    }
    // A retry due before the next poll is not left waiting for it.
    const due = await nextDueAt(ctx.db);
    return due === null ? pollMs : Math.min(pollMs, Math.max(10, due.getTime() - Date.now()));
  };
  const deliveryOptions = {
    db: ctx.db,
    logger: ctx.logger,
    retryBaseMs: ctx.config.notificationRetryBaseMs,
    maxAttempts: ctx.config.notificationMaxAttempts,
    sendMail,
  };

  const run = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (timer) clearTimeout(timer);
    let delayMs = pollMs;
    running = round()
      .then((next) => {
        delayMs = next;
      })
      .catch((error: unknown) => {
        ctx.logger.error('notification round failed', {
          error: error instanceof Error ? error.message : String(error),
        });
      })
      .finally(() => {
        running = null;
        if (stopped) return;
        if (again) {
          again = false;
          run();
          return;
        }
        timer = setTimeout(run, delayMs);
        timer.unref();
      });
  };

  const flush = (): void => {
    if (flushing || pending.length === 0) return;
    const batch = pending;
    pending = [];
    flushing = storeEvents(ctx.db, batch)
      .then(() => run())
      .catch((error: unknown) => {
        ctx.logger.error('notification events lost: the outbox could not be written', {
          events: batch.length,
          error: error instanceof Error ? error.message : String(error),
        });
      })
      .finally(() => {
        flushing = null;
        if (pending.length > 0) flush();
      });
  };

  const checkIdle = (jobUpdated: string): void => {
    const work = checkFarmIdle(ctx.db, jobUpdated)
      .then((stored) => {
        if (stored) run();
      })
      .catch((error: unknown) =>
        ctx.logger.warn('farm idle check failed', {
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    track(work);
  };

  void refreshWanted()
    .catch(() => undefined)
    .finally(run);

  return {
    capture(event) {
      if (stopped) return;
      const captured = captureEvent(event);
      if (!captured) return;
      if (captured.kind.startsWith('job-')) {
        checkIdle((captured.data.job as { updated: string }).updated);
      }
      // Only task failures can come in floods, so only they are filtered by what is subscribed
      // (a subscription made on another replica counts here within WANTED_REFRESH_MS; until the
      // first read, everything is kept); the rest are always stored, and the fan-out matches
      // them against the subscriptions of the moment.
      if (captured.kind === 'task-failed' && wanted !== null && !wanted.has('task-failed')) return;
      pending.push(captured);
      queueMicrotask(flush);
    },
    changed() {
      track(refreshWanted().catch(() => undefined));
    },
    wake: run,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await flushing;
      await running;
      await Promise.allSettled([...inflight]);
    },
  };
}
