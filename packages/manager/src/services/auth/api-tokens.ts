import { FarmError, type ApiToken, type CreatedApiToken, type Scope } from '@farm/core';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { UserPrincipal } from '../../http/principal';
import { createTokenSecret, hashTokenSecret } from './token-secret';

const DAY_MS = 24 * 60 * 60 * 1000;

interface TokenRow {
  id: string;
  name: string;
  scopes: string[];
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

function toApiToken(row: TokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes as Scope[],
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

const COLUMNS = [
  'id',
  'name',
  'scopes',
  'created_at',
  'expires_at',
  'last_used_at',
  'revoked_at',
] as const;

/**
 * Creates a personal API token for the caller; the secret is returned once and stored as sha256.
 * Only farm admins may put the `admin` scope on a token.
 * @throws FarmError `forbidden`
 */
export async function createApiToken(
  db: Kysely<Database>,
  principal: UserPrincipal,
  request: { name: string; scopes: Scope[]; expiresInDays?: number },
): Promise<CreatedApiToken> {
  if (request.scopes.includes('admin') && !principal.isAdmin) {
    throw new FarmError('forbidden', 'only farm admins may create tokens with the admin scope');
  }
  const secret = createTokenSecret();
  const row = await db
    .insertInto('api_tokens')
    .values({
      user_id: principal.userId,
      name: request.name,
      token_hash: hashTokenSecret(secret),
      scopes: request.scopes,
      expires_at:
        request.expiresInDays === undefined
          ? null
          : new Date(Date.now() + request.expiresInDays * DAY_MS),
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return { token: toApiToken(row), secret };
}

/** The caller's tokens, newest first, without their secrets. */
export async function listApiTokens(
  db: Kysely<Database>,
  principal: UserPrincipal,
): Promise<{ items: ApiToken[] }> {
  const rows = await db
    .selectFrom('api_tokens')
    .select(COLUMNS)
    .where('user_id', '=', principal.userId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return { items: rows.map(toApiToken) };
}

/**
 * Revokes a token of the caller's (farm admins: anyone's). Revoking twice is fine.
 * @throws FarmError `not_found` (also for another user's token, so ids do not leak)
 */
export async function revokeApiToken(
  db: Kysely<Database>,
  principal: UserPrincipal,
  tokenId: string,
): Promise<void> {
  let query = db
    .updateTable('api_tokens')
    .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.fn<Date>('now', [])) }))
    .where('id', '=', tokenId);
  if (!principal.isAdmin) query = query.where('user_id', '=', principal.userId);
  const result = await query.executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    throw new FarmError('not_found', 'there is no such token of yours', { details: { tokenId } });
  }
}
