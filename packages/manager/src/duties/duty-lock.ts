import { Client } from 'pg';
import type { Logger } from 'winston';
import type { FarmDatabase } from '../db';

/** Decides which replica runs a duty: the one holding its lock. */
export interface DutyLock {
  /** True when this process holds (or just took) the lock `key`; false when another replica does. */
  tryAcquire(key: number): Promise<boolean>;
  /** Releases every lock held (closes the connection that holds them). */
  close(): Promise<void>;
}

/** The first half of every duty's two-part advisory lock key: "FDUT". */
export const DUTY_LOCK_NAMESPACE = 0x46445554;

/**
 * Session-level Postgres advisory locks on a connection of their own: a lock stays with this
 * replica for as long as its connection lives, and Postgres releases it when the process dies or
 * the connection drops, so another replica takes the duty at its next tick. On PGlite there is one
 * process, which always holds every lock.
 */
export function createDutyLock(
  database: Pick<FarmDatabase, 'kind'>,
  url: string | undefined,
  logger: Logger,
): DutyLock {
  if (database.kind === 'pglite' || !url) {
    return { tryAcquire: () => Promise.resolve(true), close: () => Promise.resolve() };
  }
  let client: Client | null = null;
  let connecting: Promise<Client> | null = null;
  const held = new Set<number>();

  const drop = (reason: string) => {
    if (held.size > 0) logger.warn('duty locks lost', { reason, locks: [...held] });
    held.clear();
    const old = client;
    client = null;
    connecting = null;
    old?.end().catch(() => undefined);
  };

  const connect = (): Promise<Client> => {
    if (client) return Promise.resolve(client);
    connecting ??= (async () => {
      const next = new Client({ connectionString: url, application_name: 'farm-manager-duties' });
      next.on('error', (error) => {
        if (client === next) drop(error.message);
      });
      await next.connect();
      client = next;
      return next;
    })().catch((error: unknown) => {
      connecting = null;
      throw error;
    });
    return connecting;
  };

  return {
    async tryAcquire(key) {
      try {
        const c = await connect();
        if (held.has(key)) {
          // Prove the connection (and so the lock) is still there.
          await c.query('select 1');
          return true;
        }
        const { rows } = await c.query<{ locked: boolean }>(
          'select pg_try_advisory_lock($1::int, $2::int) as locked',
          [DUTY_LOCK_NAMESPACE, key],
        );
        if (rows[0]?.locked === true) held.add(key);
        return rows[0]?.locked === true;
      } catch (error) {
        drop(error instanceof Error ? error.message : String(error));
        throw error;
      }
    },
    async close() {
      held.clear();
      const old = client ?? (connecting ? await connecting.catch(() => null) : null);
      client = null;
      connecting = null;
      await old?.end().catch(() => undefined);
    },
  };
}
