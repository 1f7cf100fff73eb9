/** A person or script acting with an API token. Admins hold every scope. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  name: string;
  isAdmin: boolean;
  scopes: string[];
}

/** A worker acting with the token it got at registration. */
export interface WorkerPrincipal {
  kind: 'worker';
  workerId: string;
  name: string;
}

/** Who sent a request, as established from its bearer token. */
export type Principal = UserPrincipal | WorkerPrincipal;

/**
 * Looks a bearer token up (by its hash, so comparisons are constant-time in the database layer).
 * Resolves `null` for an unknown, expired or revoked token; never logs the token.
 */
export type AuthenticateToken = (token: string) => Promise<Principal | null>;
