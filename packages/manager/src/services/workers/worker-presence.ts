import { sql, type Kysely } from 'kysely';
import type { BroadcastEvent } from '@farm/core';
import type { Database } from '../../db';

/** What a heartbeat answers from: the worker's status and its pending request. */
export interface WorkerState {
  status: string;
  statusRequested: string | null;
  statusRequestedLazy: boolean;
}

/** Signs of life kept in memory and written in batches (see `createWorkerPresence`). */
export interface WorkerPresence {
  /** Records a sign of life now, with the host stats (JSON) it brought, if any. */
  seen(workerId: string, hostStats: string | null): void;
  /** The worker's state as last read (flush, event or a read), if fresh enough. */
  state(workerId: string): WorkerState | undefined;
  remember(workerId: string, state: WorkerState): void;
  /** Keeps the remembered states in step with `worker-updated`/`worker-deleted` events. */
  onEvent(event: BroadcastEvent): void;
  /** Writes what is pending now. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is pending. */
  close(): Promise<void>;
}

/** A remembered state is read again after this long, whatever the events said. */
const STATE_TTL_MS = 60_000;

/**
 * Creates the worker presence of one manager process. Heartbeats were a database write each
 * (5,000 idle workers: 500 writes/s, a fifth of a core; docs/performance.md); now they touch
 * memory, and every `flushIntervalMs` one statement writes the workers' `last_seen_at` (and host
 * stats) and reads back their status and pending request, from which heartbeats are answered.
 * Status changes made meanwhile arrive as `worker-updated` events (from every replica) and
 * replace the remembered state. A replica that dies loses at most one interval of last-seen
 * times, far below the worker timeout.
 */
export function createWorkerPresence(
  db: Kysely<Database>,
  options: { flushIntervalMs: number; onError: (error: unknown) => void },
): WorkerPresence {
  let pending = new Map<string, { at: Date; hostStats: string | null }>();
  const states = new Map<string, WorkerState & { at: number }>();
  let flushing: Promise<void> = Promise.resolve();

  const write = async (): Promise<void> => {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    const ids = [...batch.keys()];
    const entries = [...batch.values()];
    try {
      const { rows } = await sql<{
        id: string;
        status: string;
        status_requested: string | null;
        status_requested_lazy: boolean;
      }>`
        update workers w set
          last_seen_at = greatest(w.last_seen_at, d.seen),
          host_stats = coalesce(d.stats, w.host_stats)
        from unnest(
          ${ids}::uuid[],
          ${entries.map((entry) => entry.at)}::timestamptz[],
          ${entries.map((entry) => entry.hostStats)}::jsonb[]
        ) as d(id, seen, stats),
        -- Last-seen times may be lost in a crash anyway (docs/decisions/0007).
        (select set_config('synchronous_commit', 'off', true)) as async_commit
        where w.id = d.id
        returning w.id, w.status, w.status_requested, w.status_requested_lazy`.execute(db);
      const now = Date.now();
      const found = new Set<string>();
      for (const row of rows) {
        found.add(row.id);
        states.set(row.id, {
          status: row.status,
          statusRequested: row.status_requested,
          statusRequestedLazy: row.status_requested_lazy,
          at: now,
        });
      }
      for (const id of ids) if (!found.has(id)) states.delete(id);
    } catch (error) {
      // Keep the signs of life for the next try, unless newer ones came meanwhile.
      for (const [id, entry] of batch) if (!pending.has(id)) pending.set(id, entry);
      options.onError(error);
    }
  };
  const flush = (): Promise<void> => {
    flushing = flushing.then(write);
    return flushing;
  };
  const timer = setInterval(() => void flush(), options.flushIntervalMs);
  timer.unref();

  return {
    seen(workerId, hostStats) {
      const previous = pending.get(workerId);
      pending.set(workerId, {
        at: new Date(),
        hostStats: hostStats ?? previous?.hostStats ?? null,
      });
    },
    state(workerId) {
      const state = states.get(workerId);
      if (!state || Date.now() - state.at > STATE_TTL_MS) return undefined;
      return state;
    },
    remember(workerId, state) {
      states.set(workerId, { ...state, at: Date.now() });
    },
    onEvent(event) {
      if (event.type === 'worker-deleted') {
        states.delete(event.workerId);
      } else if (event.type === 'worker-updated') {
        const { worker } = event;
        states.set(worker.id, {
          status: worker.status,
          statusRequested: worker.statusRequest?.status ?? null,
          statusRequestedLazy: worker.statusRequest?.lazy ?? false,
          at: Date.now(),
        });
      }
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
