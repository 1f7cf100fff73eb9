import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db';
import type { UserPrincipal } from '../../http/principal';
import { loadProjectRoles } from './project-access';

/** The `farm_state` key of the generated signing key (base64url, 32 bytes). */
export const ACCESS_TOKEN_KEY = 'access_token_signing_key';
/** How long an access token works. */
export const ACCESS_TOKEN_TTL_MS = 5 * 60 * 1000;
const ISSUER = 'farm-manager';
const AUDIENCE = 'farm-access';
// An access token only reads: it ends up in URLs (image links, websocket query strings).
const ACCESS_SCOPES = ['jobs:read', 'workers:read'];

/** Issues and checks short-lived access tokens (JWT, HS256). */
export interface AccessTokens {
  issue(principal: UserPrincipal): Promise<{ token: string; expiresAt: string }>;
  /** The user of a valid token, or null; never throws for a bad token. */
  verify(token: string): Promise<UserPrincipal | null>;
}

/**
 * Loads the signing key: the configured one, else the one stored at first run in `farm_state`
 * (made there now if missing; every replica then reads the same). Rotation: see docs/security.md.
 */
export async function loadAccessTokenKey(
  db: Kysely<Database>,
  configured: string | undefined,
): Promise<Uint8Array> {
  if (configured) return new TextEncoder().encode(configured);
  const fresh = JSON.stringify(randomBytes(32).toString('base64url'));
  await db
    .insertInto('farm_state')
    .values({ key: ACCESS_TOKEN_KEY, value: fresh })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db
    .selectFrom('farm_state')
    .select('value')
    .where('key', '=', ACCESS_TOKEN_KEY)
    .executeTakeFirstOrThrow();
  return Buffer.from(String(row.value), 'base64url');
}

/** Replaces the stored signing key; tokens signed with the old one stop working at once. */
export async function rotateAccessTokenKey(db: Kysely<Database>): Promise<void> {
  const value = JSON.stringify(randomBytes(32).toString('base64url'));
  await db
    .insertInto('farm_state')
    .values({ key: ACCESS_TOKEN_KEY, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: sql`now()` }))
    .execute();
}

/** Access tokens signed with `key`; users are re-read on every check (disabled users fail). */
export function createAccessTokens(db: Kysely<Database>, key: Uint8Array): AccessTokens {
  return {
    async issue(principal) {
      const expiresAt = new Date(Date.now() + ACCESS_TOKEN_TTL_MS);
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(principal.userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .sign(key);
      return { token, expiresAt: expiresAt.toISOString() };
    },
    async verify(token) {
      if (token.split('.').length !== 3) return null;
      let subject: string | undefined;
      try {
        const { payload } = await jwtVerify(token, key, {
          issuer: ISSUER,
          audience: AUDIENCE,
          algorithms: ['HS256'],
        });
        subject = payload.sub;
      } catch {
        return null;
      }
      if (!subject) return null;
      const user = await db
        .selectFrom('users')
        .select(['id', 'name', 'is_admin'])
        .where('id', '=', subject)
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      if (!user) return null;
      return {
        kind: 'user',
        userId: user.id,
        name: user.name,
        isAdmin: user.is_admin,
        scopes: [...ACCESS_SCOPES],
        roles: await loadProjectRoles(db, user.id),
        tokenId: null,
        accessToken: true,
      };
    },
  };
}
