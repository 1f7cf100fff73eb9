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

/** A worker's latest sign of life; `pending` until a batch has written it. */
interface Sighting {
  at: number;
  /** Host stats (JSON) not written yet; the latest wins. */
  hostStats: string | null;
  pending: boolean;
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
  // One record per worker, reused by every heartbeat (500 a second for 5,000 workers), so a
  // heartbeat allocates nothing here; `pending` marks what the next batch writes.
  const sightings = new Map<string, Sighting>();
  const states = new Map<string, WorkerState & { at: number }>();
  let flushing: Promise<void> = Promise.resolve();

  const write = async (): Promise<void> => {
    const ids: string[] = [];
    const seenAt: Date[] = [];
    const stats: Array<string | null> = [];
    for (const [id, sighting] of sightings) {
      if (!sighting.pending) continue;
      ids.push(id);
      seenAt.push(new Date(sighting.at));
      stats.push(sighting.hostStats);
      sighting.pending = false;
      sighting.hostStats = null;
    }
    if (ids.length === 0) return;
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
          ${seenAt}::timestamptz[],
          ${stats}::jsonb[]
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
      for (const id of ids) {
        if (found.has(id)) continue;
        states.delete(id);
        sightings.delete(id);
      }
    } catch (error) {
      // Keep the signs of life for the next try; newer ones that came meanwhile win.
      ids.forEach((id, i) => {
        const sighting = sightings.get(id);
        if (!sighting) return;
        if (!sighting.pending) sighting.at = seenAt[i]!.getTime();
        sighting.pending = true;
        sighting.hostStats ??= stats[i] ?? null;
      });
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
      const sighting = sightings.get(workerId);
      if (!sighting) {
        sightings.set(workerId, { at: Date.now(), hostStats, pending: true });
        return;
      }
      sighting.at = Date.now();
      sighting.pending = true;
      if (hostStats !== null) sighting.hostStats = hostStats;
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
        sightings.delete(event.workerId);
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
