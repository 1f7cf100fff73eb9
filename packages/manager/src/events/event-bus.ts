import { randomUUID } from 'node:crypto';
import type { Logger } from 'winston';
import { describeError } from '../http/error-response';
import { eventJobId, type BroadcastEvent } from '@farm/core';

/** Postgres refuses NOTIFY payloads of 8,000 bytes or more; we keep a margin for the envelope. */
export const MAX_REMOTE_PAYLOAD_BYTES = 7000;
/** How long `task-updated` events of one job are gathered before they go out together. */
export const DEFAULT_COALESCE_WINDOW_MS = 50;
/** Above this many changed tasks in one window, subscribers get one `tasks-bulk-updated`. */
export const DEFAULT_BULK_THRESHOLD = 10;
/** `tasks-bulk-updated` lists its task ids only up to this many (the schema's limit). */
export const MAX_BULK_TASK_IDS = 1000;
/** How long `worker-stats` events are gathered before they travel to other replicas together. */
export const DEFAULT_STATS_REMOTE_WINDOW_MS = 250;
// Host stats come with every heartbeat (5,000 workers: 500 a second) and only feed sparklines
// with a point every 10 s, so they need not reach other replicas within the tick.
const GATHERED_REMOTE_TYPES: ReadonlySet<BroadcastEvent['type']> = new Set(['worker-stats']);

/**
 * What travels between replicas (as JSON): the events of one tick, one event (sent by replicas of
 * an earlier version), or a reference to a stored event too large for a notification.
 */
export type RemoteEnvelope =
  | { origin: string; events: BroadcastEvent[] }
  | { origin: string; event: BroadcastEvent }
  | { origin: string; type: 'ref'; ref: string };

/** How the bus reaches other replicas; all optional, so one process needs none of it. */
export interface EventBusOptions {
  /** Sends a JSON envelope to the other replicas (the db layer: `NOTIFY farm_events, payload`). */
  publishRemote?: (payload: string) => void | Promise<void>;
  /**
   * Whether any other replica listens now; while it says no, events are not even serialised for
   * them (host stats alone are 500 events a second for 5,000 workers). Always yes when absent.
   */
  othersListening?: () => boolean;
  /** Stores an envelope too large for NOTIFY and returns a reference the others can load. */
  storeOversized?: (payload: string) => Promise<string>;
  /** Loads an envelope stored by `storeOversized` on another replica; null when it is gone. */
  loadOversized?: (ref: string) => Promise<string | null>;
  coalesceWindowMs?: number;
  /** `worker-stats` for other replicas are gathered this long (0: sent with their tick). */
  statsRemoteWindowMs?: number;
  bulkThreshold?: number;
  maxRemotePayloadBytes?: number;
  /** This replica's identity in envelopes; random by default. */
  origin?: string;
  logger?: Logger;
}

/** A listener of live events; it must not throw (it is logged and skipped if it does). */
export type BroadcastEventListener = (event: BroadcastEvent) => void;

/** In-process publish/subscribe of live events, bridged to the other replicas. */
export interface EventBus {
  readonly origin: string;
  /** Delivers an event here and on every other replica (after coalescing, see `createEventBus`). */
  publish(event: BroadcastEvent): void;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: BroadcastEventListener): () => void;
  /** Hands an envelope received from another replica to local listeners; skips our own. */
  receiveRemote(payload: string): Promise<void>;
  /** Sends every gathered `task-updated` event now, and what waits for other replicas. */
  flush(): void;
  /** Flushes and stops all timers; later publishes are delivered without coalescing. */
  close(): void;
}

interface JobWindow {
  timer: NodeJS.Timeout;
  // Insertion order is last-update order; a later update of the same task replaces the earlier.
  pending: Map<string, Extract<BroadcastEvent, { type: 'task-updated' }>>;
}

/**
 * Creates the event bus.
 *
 * Coalescing rule, per job: the first `task-updated` of a quiet job goes out at once and opens a
 * window of `coalesceWindowMs`; further `task-updated` events of that job inside the window are
 * gathered, keeping only the latest per task. When the window ends, up to `bulkThreshold` gathered
 * events go out as they are (one per task); more go out as one `tasks-bulk-updated { jobId,
 * taskIds, refresh: true }` (ids listed up to 1,000), telling clients to refetch. A window that
 * sent something stays open for another period; an empty one closes. Any other event about the job (`job-updated`,
 * `tasks-bulk-updated`, `last-rendered`) first flushes that job's window, so per job the order of
 * events is kept. Coalescing happens before the replica bridge, so replicas receive the merged
 * events and deliver them as they come.
 *
 * Towards other replicas, the events of one turn of the event loop travel together: as few
 * `publishRemote` payloads as fit under `maxRemotePayloadBytes` (usually one), in order. Each
 * payload is a NOTIFY, and every NOTIFY is a commit that takes Postgres's cluster-wide
 * notification lock, so one per event made them queue behind each other (docs/performance.md).
 * `worker-stats` events wait longer, `statsRemoteWindowMs`, and travel apart from the rest: with
 * one per heartbeat they would otherwise cost a NOTIFY per heartbeat, as heartbeats arrive in
 * ticks of their own (docs/decisions/0020). Other replicas may get them after later events.
 */
export function createEventBus(options: EventBusOptions = {}): EventBus {
  const origin = options.origin ?? randomUUID();
  const windowMs = options.coalesceWindowMs ?? DEFAULT_COALESCE_WINDOW_MS;
  const statsWindowMs = options.statsRemoteWindowMs ?? DEFAULT_STATS_REMOTE_WINDOW_MS;
  const bulkThreshold = options.bulkThreshold ?? DEFAULT_BULK_THRESHOLD;
  const maxPayload = options.maxRemotePayloadBytes ?? MAX_REMOTE_PAYLOAD_BYTES;
  const logger = options.logger;
  const listeners = new Set<BroadcastEventListener>();
  const windows = new Map<string, JobWindow>();
  let closed = false;
  // A batch payload is `{"origin":"...","events":[<event>,<event>]}`, built from event JSON.
  const head = `{"origin":${JSON.stringify(origin)},"events":[`;
  const envelopeBytes = Buffer.byteLength(head) + 2;
  let outgoing: string[] = [];
  let outgoingScheduled = false;
  let gathered: string[] = [];
  let gatheredTimer: NodeJS.Timeout | undefined;

  function deliverLocal(event: BroadcastEvent): void {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        logger?.error('live event listener failed', {
          error: describeError(error),
          eventType: event.type,
        });
      }
    }
  }

  function sendRemote(event: BroadcastEvent): void {
    if (!options.publishRemote || options.othersListening?.() === false) return;
    const json = JSON.stringify(event);
    // The envelope adds the origin and brackets: an event that cannot travel alone goes by reference.
    if (Buffer.byteLength(json) + envelopeBytes > maxPayload) {
      sendOversized(event, JSON.stringify({ origin, event } satisfies RemoteEnvelope));
      return;
    }
    if (GATHERED_REMOTE_TYPES.has(event.type) && statsWindowMs > 0 && !closed) {
      gathered.push(json);
      if (!gatheredTimer) {
        gatheredTimer = setTimeout(flushGathered, statsWindowMs);
        // Waiting stats must never keep a stopping process alive.
        gatheredTimer.unref();
      }
      return;
    }
    outgoing.push(json);
    if (closed) {
      flushRemote();
    } else if (!outgoingScheduled) {
      outgoingScheduled = true;
      setImmediate(flushRemote);
    }
  }

  function flushRemote(): void {
    outgoingScheduled = false;
    const events = outgoing;
    outgoing = [];
    sendInBatches(events);
  }

  function flushGathered(): void {
    clearTimeout(gatheredTimer);
    gatheredTimer = undefined;
    const events = gathered;
    gathered = [];
    sendInBatches(events);
  }

  // As few payloads under `maxPayload` as the events fit in, in order.
  function sendInBatches(events: readonly string[]): void {
    const publishRemote = options.publishRemote;
    if (!publishRemote || events.length === 0) return;
    let batch: string[] = [];
    let bytes = envelopeBytes;
    const send = (): void => {
      if (batch.length === 0) return;
      const payload = `${head}${batch.join(',')}]}`;
      Promise.resolve(publishRemote(payload)).catch((error: unknown) =>
        logger?.error('could not send live events to other replicas', {
          error: describeError(error),
        }),
      );
      batch = [];
      bytes = envelopeBytes;
    };
    for (const json of events) {
      const size = Buffer.byteLength(json) + 1;
      if (bytes + size > maxPayload) send();
      batch.push(json);
      bytes += size;
    }
    send();
  }

  function sendOversized(event: BroadcastEvent, payload: string): void {
    const publishRemote = options.publishRemote!;
    const send = async (): Promise<void> => {
      if (!options.storeOversized) {
        logger?.warn(
          'live event too large for other replicas and no store configured; sent locally only',
          {
            eventType: event.type,
            bytes: Buffer.byteLength(payload),
          },
        );
        return;
      }
      const ref = await options.storeOversized(payload);
      await publishRemote(JSON.stringify({ origin, type: 'ref', ref } satisfies RemoteEnvelope));
    };
    send().catch((error: unknown) =>
      logger?.error('could not send a live event to other replicas', {
        error: describeError(error),
      }),
    );
  }

  function emit(event: BroadcastEvent): void {
    deliverLocal(event);
    sendRemote(event);
  }

  function flushWindow(jobId: string, window: JobWindow): void {
    const events = [...window.pending.values()];
    window.pending.clear();
    if (events.length <= bulkThreshold) {
      for (const event of events) emit(event);
      return;
    }
    emit(
      events.length <= MAX_BULK_TASK_IDS
        ? {
            type: 'tasks-bulk-updated',
            jobId,
            refresh: true,
            taskIds: events.map((event) => event.task.id),
          }
        : { type: 'tasks-bulk-updated', jobId, refresh: true },
    );
  }

  function onWindowEnd(jobId: string): void {
    const window = windows.get(jobId);
    if (!window) return;
    if (window.pending.size === 0) {
      windows.delete(jobId);
      return;
    }
    flushWindow(jobId, window);
    window.timer = startTimer(jobId);
  }

  function startTimer(jobId: string): NodeJS.Timeout {
    const timer = setTimeout(() => onWindowEnd(jobId), windowMs);
    // A pending window must never keep a stopping process alive.
    timer.unref();
    return timer;
  }

  function closeWindow(jobId: string): void {
    const window = windows.get(jobId);
    if (!window) return;
    clearTimeout(window.timer);
    windows.delete(jobId);
    flushWindow(jobId, window);
  }

  return {
    origin,
    publish(event) {
      if (event.type === 'task-updated' && !closed && windowMs > 0) {
        const window = windows.get(event.jobId);
        if (window) {
          window.pending.delete(event.task.id);
          window.pending.set(event.task.id, event);
          return;
        }
        windows.set(event.jobId, { timer: startTimer(event.jobId), pending: new Map() });
        emit(event);
        return;
      }
      const jobId = eventJobId(event);
      if (jobId !== undefined) closeWindow(jobId);
      emit(event);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async receiveRemote(payload) {
      let envelope: RemoteEnvelope;
      try {
        envelope = JSON.parse(payload) as RemoteEnvelope;
      } catch (error) {
        logger?.warn('ignored a malformed live event from another replica', {
          error: describeError(error),
        });
        return;
      }
      if (envelope.origin === origin) return;
      if ('events' in envelope) {
        for (const event of envelope.events) deliverLocal(event);
        return;
      }
      if ('event' in envelope) {
        deliverLocal(envelope.event);
        return;
      }
      if (envelope.type !== 'ref' || !options.loadOversized) return;
      const stored = await options.loadOversized(envelope.ref);
      if (stored === null) return;
      const inner = JSON.parse(stored) as RemoteEnvelope;
      if ('event' in inner && inner.origin !== origin) deliverLocal(inner.event);
    },
    flush() {
      for (const jobId of [...windows.keys()]) closeWindow(jobId);
      flushRemote();
      flushGathered();
    },
    close() {
      closed = true;
      for (const jobId of [...windows.keys()]) closeWindow(jobId);
      flushRemote();
      flushGathered();
    },
  };
}
