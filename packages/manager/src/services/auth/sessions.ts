import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db';
import type { UserPrincipal } from '../../http/principal';
import { API_TOKEN_SCOPES } from './api-token-scopes';
import { loadProjectRoles } from './project-access';
import { hashTokenSecret } from './token-secret';

/** The cookie that carries the web session's secret. */
export const SESSION_COOKIE = 'farm_session';
/** The header a cookie-authenticated unsafe request must carry with the session's CSRF token. */
export const CSRF_HEADER = 'x-farm-csrf';
/** A session ends this long after its last use. */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
const SESSION_PREFIX = 'farm_s_';
// Moving the expiry on every request would turn each read into a write.
const TOUCH_RESOLUTION_MS = 60_000;

/** A new session: the secret goes into the cookie, the CSRF token to the web app. */
export interface NewSession {
  id: string;
  secret: string;
  csrfToken: string;
  expiresAt: Date;
}

/** Starts a session for a user. Always a new id: a session id is never taken from the client. */
export async function createSession(
  db: Kysely<Database>,
  userId: string,
  address: string,
): Promise<NewSession> {
  const secret = `${SESSION_PREFIX}${randomBytes(32).toString('base64url')}`;
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(Date.now() + SESSION_IDLE_MS);
  const row = await db
    .insertInto('sessions')
    .values({
      secret_hash: hashTokenSecret(secret),
      user_id: userId,
      csrf_token: csrfToken,
      address,
      expires_at: expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  // Expired sessions are swept here rather than by a duty: logins are rare enough.
  await db.deleteFrom('sessions').where('expires_at', '<', new Date()).execute();
  return { id: row.id, secret, csrfToken, expiresAt };
}

/** Ends the session with this cookie secret, if there is one. */
export async function deleteSessionBySecret(db: Kysely<Database>, secret: string): Promise<void> {
  await db.deleteFrom('sessions').where('secret_hash', '=', hashTokenSecret(secret)).execute();
}

/** Ends a session by id. */
export async function deleteSession(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

/** Ends every session of a user (password change, disabled user). */
export async function deleteUserSessions(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

/**
 * Resolves a session cookie's secret to its user (with every scope: the roles limit a session),
 * or null when unknown, expired or the user is disabled. Slides the expiry at most once a minute.
 */
export async function authenticateSession(
  db: Kysely<Database>,
  secret: string,
): Promise<UserPrincipal | null> {
  if (!secret.startsWith(SESSION_PREFIX) || secret.length > 200) return null;
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.id', 's.csrf_token', 's.last_seen_at', 'u.id as user_id', 'u.name', 'u.is_admin'])
    .where('s.secret_hash', '=', hashTokenSecret(secret))
    .where('s.expires_at', '>', new Date())
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  const now = Date.now();
  if (now - row.last_seen_at.getTime() > TOUCH_RESOLUTION_MS) {
    await db
      .updateTable('sessions')
      .set({ last_seen_at: sql`now()`, expires_at: new Date(now + SESSION_IDLE_MS) })
      .where('id', '=', row.id)
      .execute();
  }
  return {
    kind: 'user',
    userId: row.user_id,
    name: row.name,
    isAdmin: row.is_admin,
    scopes: [...API_TOKEN_SCOPES],
    roles: await loadProjectRoles(db, row.user_id),
    tokenId: null,
    session: { id: row.id, csrfToken: row.csrf_token },
  };
}

/** The `Set-Cookie` value for a session (or, with `secret` null, one that clears it). */
export function sessionCookie(secret: string | null, options: { secure: boolean }): string {
  const attributes = [
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    ...(options.secure ? ['Secure'] : []),
  ];
  return secret === null
    ? [`${SESSION_COOKIE}=`, 'Max-Age=0', ...attributes].join('; ')
    : [`${SESSION_COOKIE}=${secret}`, `Max-Age=${SESSION_IDLE_MS / 1000}`, ...attributes].join(
        '; ',
      );
}

/** The value of one cookie of a `Cookie` header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim() || null;
  }
  return null;
}
