import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { UserPrincipal } from '../../http/principal';
import { loadProjectRoles } from './project-access';
import { hashTokenSecret, USER_TOKEN_PREFIX } from './token-secret';

// Writing last_used_at on every request would turn each read into a write; once a minute per
// token is enough to tell which tokens are in use.
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Resolves a personal API token to its user, or null when the token is unknown, revoked, expired,
 * or its user is disabled. Never throws for a bad token and never logs it.
 */
export async function authenticateUserToken(
  db: Kysely<Database>,
  token: string,
): Promise<UserPrincipal | null> {
  if (!token.startsWith(USER_TOKEN_PREFIX)) return null;
  const row = await db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select([
      't.id as token_id',
      't.scopes',
      't.expires_at',
      't.last_used_at',
      'u.id as user_id',
      'u.name',
      'u.is_admin',
    ])
    .where('t.token_hash', '=', hashTokenSecret(token))
    .where('t.revoked_at', 'is', null)
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  const now = Date.now();
  if (row.expires_at && row.expires_at.getTime() <= now) return null;
  if (!row.last_used_at || now - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
    await db
      .updateTable('api_tokens')
      .set({ last_used_at: new Date(now) })
      .where('id', '=', row.token_id)
      .execute();
  }
  return {
    kind: 'user',
    userId: row.user_id,
    name: row.name,
    isAdmin: row.is_admin,
    scopes: row.scopes,
    roles: await loadProjectRoles(db, row.user_id),
    tokenId: row.token_id,
  };
}
