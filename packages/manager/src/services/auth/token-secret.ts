import { createHash, randomBytes } from 'node:crypto';

/** Prefix of personal API tokens, so a leaked one is recognisable (secret scanners, logs). */
export const USER_TOKEN_PREFIX = 'farm_u_';

/** A new random token: 32 random bytes, base64url, with the given prefix. */
export function createTokenSecret(prefix = USER_TOKEN_PREFIX): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/**
 * The stored form of a token: sha256 hex. Tokens have 256 bits of entropy, so a fast hash is enough
 * (no salt or key stretching needed), and looking the hash up by equality in a unique index makes
 * the comparison independent of how many characters of a guess are right.
 */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
