import { timingSafeEqual } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { FarmError, type RegisteredWorker, type WorkerRegistration } from '@farm/core';
import type { Database } from '../../db';
import type { WorkerPrincipal } from '../../http/principal';
import { createTokenSecret, hashTokenSecret } from '../auth/token-secret';
import type { ServiceContext } from '../service-context';
import { publishWorker } from './worker-view';

/** Prefix of worker tokens, so the composition can tell them from user tokens without a lookup. */
export const WORKER_TOKEN_PREFIX = 'farm_w_';
/** The `farm_state` key of the registration secret's sha256 hex. */
export const REGISTRATION_SECRET_KEY = 'registration_secret_sha256';

/** Stores the farm's registration secret, hashed (call at start-up with the configured one). */
export async function storeRegistrationSecret(db: Kysely<Database>, secret: string): Promise<void> {
  const value = JSON.stringify(hashTokenSecret(secret));
  await db
    .insertInto('farm_state')
    .values({ key: REGISTRATION_SECRET_KEY, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: sql`now()` }))
    .execute();
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/**
 * Registers a new worker when it presents the farm's registration secret (compared in constant
 * time, as hashes); answers its id and its own token, shown only this once (stored as sha256).
 *
 * @throws FarmError `forbidden` for a wrong secret, `unavailable` when no secret is stored yet.
 */
export async function registerWorker(
  ctx: ServiceContext,
  registration: WorkerRegistration,
  address = '',
): Promise<RegisteredWorker> {
  const stored = await ctx.db
    .selectFrom('farm_state')
    .select('value')
    .where('key', '=', REGISTRATION_SECRET_KEY)
    .executeTakeFirst();
  if (!stored) throw new FarmError('unavailable', 'the farm has no registration secret yet');
  if (!sameHash(hashTokenSecret(registration.secret), String(stored.value))) {
    throw new FarmError('forbidden', 'the registration secret is wrong');
  }
  const token = createTokenSecret(WORKER_TOKEN_PREFIX);
  const row = await ctx.db
    .insertInto('workers')
    .values({
      name: registration.name,
      token_hash: hashTokenSecret(token),
      platform: registration.platform,
      task_types: normaliseTaskTypes(registration.taskTypes),
      tags: registration.tags ?? [],
      status: 'offline',
      address,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  ctx.logger.info('worker registered', { workerId: row.id, name: registration.name });
  await publishWorker(ctx, row.id);
  return { workerId: row.id, token };
}

/** Task types trimmed and lower-cased, without duplicates. */
export function normaliseTaskTypes(types: readonly string[]): string[] {
  return [...new Set(types.map((type) => type.trim().toLowerCase()).filter(Boolean))];
}

interface CachedPrincipal {
  principal: WorkerPrincipal | null;
  expiresAt: number;
}

/** Looks a worker token up; see `createWorkerTokenAuthenticator`. */
export type WorkerTokenAuthenticator = ((token: string) => Promise<WorkerPrincipal | null>) & {
  /** Drops cached answers (all, or one worker's): call when a worker is deleted or renamed. */
  forget(workerId?: string): void;
};

/**
 * Authenticates worker tokens by their sha256 (a unique-index lookup, so no timing leak on the
 * secret). Answers are cached for `cacheMs` (5 s by default): a worker sends thousands of
 * requests a minute and its identity does not change; deleting a worker or revoking its token
 * calls `forget`, and on other replicas such a token works for at most `cacheMs` more (a deleted
 * worker's queries find no worker row anyway). A lookup still in flight when `forget` runs
 * answers its own request but is not cached: it may have read the row before the revocation.
 */
export function createWorkerTokenAuthenticator(
  db: Kysely<Database>,
  options: { cacheMs?: number; maxEntries?: number } = {},
): WorkerTokenAuthenticator {
  const cacheMs = options.cacheMs ?? 5000;
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, CachedPrincipal>();
  let forgotten = 0;
  const authenticate = async (token: string): Promise<WorkerPrincipal | null> => {
    if (!token.startsWith(WORKER_TOKEN_PREFIX)) return null;
    const hash = hashTokenSecret(token);
    const now = Date.now();
    const hit = cache.get(hash);
    if (hit && hit.expiresAt > now) return hit.principal;
    const forgottenBefore = forgotten;
    const row = await db
      .selectFrom('workers')
      .select(['id', 'name'])
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    const principal: WorkerPrincipal | null = row
      ? { kind: 'worker', workerId: row.id, name: row.name }
      : null;
    if (forgotten !== forgottenBefore) return principal;
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(hash, { principal, expiresAt: now + cacheMs });
    return principal;
  };
  return Object.assign(authenticate, {
    forget(workerId?: string) {
      forgotten++;
      if (workerId === undefined) cache.clear();
      else
        for (const [key, value] of cache)
          if (value.principal?.workerId === workerId) cache.delete(key);
    },
  });
}

/** One uncached lookup of a worker token (`createWorkerTokenAuthenticator` caches). */
export async function authenticateWorkerToken(
  db: Kysely<Database>,
  token: string,
): Promise<WorkerPrincipal | null> {
  return createWorkerTokenAuthenticator(db, { cacheMs: 0 })(token);
}
