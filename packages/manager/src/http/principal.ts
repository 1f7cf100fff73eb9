/** A role a user holds in one project (`admin` in a project counts as manager there). */
import type { ProjectRoleName } from '@farm/core';
export type { ProjectRoleName };

/** A person or script acting with an API token, a web session or a short-lived access token. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  name: string;
  /** Farm admins pass every role and scope check. */
  isAdmin: boolean;
  scopes: string[];
  /** The user's role per project id (absent: none). */
  roles?: Readonly<Record<string, ProjectRoleName>>;
  /** The API token used, or null for a session or an access token. */
  tokenId?: string | null;
  /** Set for a short-lived access token (JWT): it reads only, whoever the user is. */
  accessToken?: true;
  /** Set when the caller came with the web session cookie (CSRF rules apply). */
  session?: { id: string; csrfToken: string };
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

/** Looks a session cookie's secret up; null when unknown or expired. */
export type AuthenticateSession = (secret: string) => Promise<UserPrincipal | null>;
