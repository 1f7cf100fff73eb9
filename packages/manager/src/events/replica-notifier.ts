import { sql, type Kysely } from 'kysely';
import type { Database } from '../db';

/** One notification for the other replicas. */
export interface ReplicaNote {
  channel: string;
  payload: string;
}

/** Gathers the notifications of one turn of the event loop and sends them in one statement. */
export interface ReplicaNotifier {
  notify(channel: string, payload: string): void;
  /** Sends what is gathered now (resolves once it is sent). */
  flush(): Promise<void>;
}

/**
 * Creates the notifier the manager's cross-replica traffic goes through: live events
 * (`farm_events`) and work wake-ups (`farm_work`) of one tick become one `select pg_notify(...),
 * pg_notify(...)`, one commit. Every NOTIFY commit takes Postgres's cluster-wide notification
 * lock, so sending them one by one made replicas' commits queue behind each other.
 */
export function createReplicaNotifier(
  send: (notes: readonly ReplicaNote[]) => Promise<void>,
  onError: (error: unknown) => void,
): ReplicaNotifier {
  let notes: ReplicaNote[] = [];
  let scheduled = false;
  const flush = async (): Promise<void> => {
    scheduled = false;
    const batch = notes;
    notes = [];
    if (batch.length === 0) return;
    try {
      await send(batch);
    } catch (error) {
      onError(error);
    }
  };
  return {
    notify(channel, payload) {
      notes.push({ channel, payload });
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => void flush());
    },
    flush,
  };
}

/** Sends notifications in one statement (each payload under Postgres's 8,000-byte limit). */
export async function notifyAll(
  db: Kysely<Database>,
  notes: readonly ReplicaNote[],
): Promise<void> {
  if (notes.length === 0) return;
  const calls = notes.map((note) => sql`pg_notify(${note.channel}, ${note.payload})`);
  await sql`select ${sql.join(calls)}`.execute(db);
}
