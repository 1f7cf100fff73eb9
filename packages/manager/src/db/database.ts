import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import path from 'node:path';
import { assertChannelName, redactDatabaseUrl, SILENT_DB_LOGGER, type DbLogger } from './db-logger';
import { openPGlite } from './open-pglite';
import { openPostgres } from './open-postgres';
import type { Database } from './tables';

export * from './tables';
export type { DbLogger } from './db-logger';

/** Which engine a `FarmDatabase` runs on. */
export type DatabaseKind = 'postgres' | 'pglite';

/** Options of `createDatabase`. */
export interface DatabaseOptions {
  /** A `postgres://` URL. Without one, the embedded PGlite database in `<dataDir>/db` is used. */
  url?: string;
  /** The manager's data folder. */
  dataDir: string;
  /** Where connection problems and reconnects are reported. @default silent */
  log?: DbLogger;
  /** Postgres only: the size of the connection pool. @default 10 */
  poolSize?: number;
}

/** Stops a LISTEN subscription. */
export type Unlisten = () => Promise<void>;

/** An open database: the Kysely handle plus LISTEN/NOTIFY, the same on Postgres and PGlite. */
export interface FarmDatabase {
  readonly db: Kysely<Database>;
  readonly kind: DatabaseKind;
  /** Where the data lives, safe to log: the Postgres URL without password, or the PGlite folder. */
  readonly location: string;
  /**
   * Calls `onPayload` for every NOTIFY on `channel` (a lower-case identifier). On Postgres the
   * subscription survives a dropped connection; `onResubscribed` runs after such a reconnect,
   * because notifications sent during the gap are lost.
   */
  listen(
    channel: string,
    onPayload: (payload: string) => void,
    onResubscribed?: () => void,
  ): Promise<Unlisten>;
  /** Sends a notification (at most 8000 bytes); inside a transaction use `notifyIn(trx, ...)`. */
  notify(channel: string, payload: string): Promise<void>;
  /** Closes every connection; waits for a running PGlite transaction to end. */
  close(): Promise<void>;
}

/**
 * Sends a NOTIFY through `executor`; called with a transaction, listeners hear it only when the
 * transaction commits (and never if it rolls back).
 */
export async function notifyIn(
  executor: Kysely<Database>,
  channel: string,
  payload: string,
): Promise<void> {
  assertChannelName(channel);
  await sql`select pg_notify(${channel}, ${payload})`.execute(executor);
}

/**
 * Opens the manager's database: Postgres through `pg` when `url` is set, otherwise the embedded
 * PGlite database in `<dataDir>/db`. Does not migrate: call `migrate(db)` next.
 *
 * @example
 * const database = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
 * await migrate(database.db);
 */
export async function createDatabase(options: DatabaseOptions): Promise<FarmDatabase> {
  const log = options.log ?? SILENT_DB_LOGGER;
  if (options.url) {
    const { db, listener } = await openPostgres(options.url, {
      log,
      poolSize: options.poolSize,
    });
    return {
      db,
      kind: 'postgres',
      location: redactDatabaseUrl(options.url),
      listen: (channel, onPayload, onResubscribed) =>
        listener.listen(channel, onPayload, onResubscribed),
      notify: (channel, payload) => notifyIn(db, channel, payload),
      close: async () => {
        await listener.close();
        await db.destroy();
      },
    };
  }

  const folder = path.resolve(options.dataDir, 'db');
  const opened = await openPGlite(folder);
  const { db, pglite, mutex } = opened;
  let closed = false;
  return {
    db,
    kind: 'pglite',
    location: folder,
    // LISTEN goes through the same mutex as queries so it never runs inside someone's transaction.
    listen: async (channel, onPayload) => {
      assertChannelName(channel);
      const unsubscribe = await mutex.runExclusive(() => pglite.listen(channel, onPayload));
      return () => mutex.runExclusive(() => (pglite.closed ? Promise.resolve() : unsubscribe()));
    },
    notify: (channel, payload) => notifyIn(db, channel, payload),
    close: async () => {
      if (closed) return;
      closed = true;
      await db.destroy();
      opened.unlock();
    },
  };
}
