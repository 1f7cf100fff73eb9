import { sql } from 'kysely';
import { LISTENER_APPLICATION_NAME } from './open-postgres';
import type { FarmDatabase } from './database';

/** Whether other manager replicas share this database, so that notifying them is worth a NOTIFY. */
export interface ReplicaCensus {
  othersPresent(): boolean;
  /** Another replica spoke (a hello or any notification from another origin). */
  heardFromAnother(): void;
  stop(): void;
}

export const DEFAULT_CENSUS_INTERVAL_MS = 2000;

/**
 * Counts the replicas listening on this database: every manager holds one LISTEN connection named
 * `farm-manager-listener`, visible in `pg_stat_activity` to any role. With none but ours,
 * live events and work wake-ups stay in the process instead of going through a NOTIFY that only
 * we would read back: at a thousand tasks a second that was a statement per tick and its echo
 * (docs/decisions/0026). A replica that starts announces itself (`hello`), so the others start
 * sending at once rather than at their next count. PGlite is opened by one process only, so it
 * never has others.
 */
export function startReplicaCensus(
  database: FarmDatabase,
  options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
): ReplicaCensus {
  if (database.kind === 'pglite') {
    return { othersPresent: () => false, heardFromAnother: () => undefined, stop: () => undefined };
  }
  // Until the first count says otherwise, assume company: sending needlessly is only slower.
  let others = true;
  let stopped = false;
  let heardAt = 0;
  const intervalMs = options.intervalMs ?? DEFAULT_CENSUS_INTERVAL_MS;
  const count = async (): Promise<void> => {
    try {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and application_name = ${LISTENER_APPLICATION_NAME}`.execute(
        database.db,
      );
      // A hello heard while this count ran still counts: the newcomer may have connected after.
      if (!stopped) others = (rows[0]?.n ?? 0) > 1 || Date.now() - heardAt < 2 * intervalMs;
    } catch (error) {
      others = true;
      options.onError?.(error);
    }
  };
  void count();
  const timer = setInterval(() => void count(), intervalMs);
  timer.unref();
  return {
    othersPresent: () => others,
    heardFromAnother: () => {
      heardAt = Date.now();
      others = true;
    },
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
