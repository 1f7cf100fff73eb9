import { FarmError, type OperationRole } from '@farm/core';
import { hasOperationRole } from '../services/auth/project-access';
import type { AuthenticateToken, Principal } from './principal';

/** What an operation demands of its caller, from core's operations table. */
export interface AuthRequirement {
  auth: 'none' | 'user' | 'worker';
  /** The scope a user token needs (admins have all); absent means any user. */
  scope?: string | null;
  /** The role a user needs (`x-farm-role`); absent or null means any user. */
  role?: OperationRole | null;
}

// Real tokens are far shorter; refusing huge headers early spares the database a pointless hash.
const MAX_TOKEN_LENGTH = 512;
const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** The token of an `Authorization: Bearer <token>` header, or null when absent or malformed. */
export function readBearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = BEARER.exec(header);
  const token = match?.[1];
  return token && token.length <= MAX_TOKEN_LENGTH ? token : null;
}

/** The `WWW-Authenticate` value sent with every 401. */
export const WWW_AUTHENTICATE = 'Bearer realm="farm"';

/**
 * Establishes the caller of an operation and checks it may call it: resolves the principal
 * (`null` for `auth: none`), or throws `unauthenticated` (no or unknown token) or `forbidden`
 * (the wrong kind of principal, or a user without the operation's scope).
 */
export async function authenticate(
  requirement: AuthRequirement,
  token: string | null,
  authenticateToken: AuthenticateToken,
): Promise<Principal | null> {
  if (requirement.auth === 'none') return null;
  if (token === null) {
    throw new FarmError(
      'unauthenticated',
      'this endpoint needs a credential: send Authorization: Bearer <token>',
    );
  }
  const principal = await authenticateToken(token);
  if (!principal)
    throw new FarmError('unauthenticated', 'the token is unknown, expired or revoked');
  authorize(requirement, principal);
  return principal;
}

/** Throws `forbidden` unless `principal` satisfies `requirement`. */
export function authorize(requirement: AuthRequirement, principal: Principal): void {
  if (requirement.auth === 'worker') {
    if (principal.kind !== 'worker')
      throw new FarmError('forbidden', 'this endpoint is for workers; use a worker token');
    return;
  }
  if (requirement.auth !== 'user') return;
  if (principal.kind !== 'user')
    throw new FarmError('forbidden', 'this endpoint is for users; a worker token cannot call it');
  const scope = requirement.scope;
  // An access token's scopes bind admins too: it travels in URLs, so it only ever reads.
  const allScopes = principal.isAdmin && !principal.accessToken;
  if (scope && !allScopes && !principal.scopes.includes(scope)) {
    throw new FarmError('forbidden', `the token lacks the scope "${scope}"`, {
      details: { requiredScope: scope },
    });
  }
  if (!hasOperationRole(principal, requirement.role ?? null)) {
    throw new FarmError(
      'forbidden',
      requirement.role === 'admin'
        ? 'only farm admins may do this'
        : `this needs the ${requirement.role} role in a project`,
      { details: { requiredRole: requirement.role } },
    );
  }
}
