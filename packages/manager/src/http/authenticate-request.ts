import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { FarmError } from '@farm/core';
import { CSRF_HEADER, SESSION_COOKIE, readCookie } from '../services/auth/sessions';
import { authenticate, authorize, readBearerToken, type AuthRequirement } from './authenticate';
import type { AuthenticateSession, AuthenticateToken, Principal } from './principal';

const SAFE_METHODS = new Set(['get', 'head', 'options']);

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/**
 * Establishes and authorises the caller of a request: a bearer token first (API token, worker
 * token or access token), else the web session cookie. A cookie-authenticated request with an
 * unsafe method must echo the session's CSRF token in `X-Farm-CSRF` (a page on another site can
 * make the browser send the cookie, but cannot read the token); bearer calls need no such header.
 * Access tokens only read.
 *
 * @throws FarmError `unauthenticated` or `forbidden`
 */
export async function authenticateRequest(
  requirement: AuthRequirement,
  method: string,
  headers: IncomingHttpHeaders,
  options: { authenticateToken: AuthenticateToken; authenticateSession?: AuthenticateSession },
): Promise<Principal | null> {
  if (requirement.auth === 'none') return null;
  const unsafe = !SAFE_METHODS.has(method.toLowerCase());
  const bearer = readBearerToken(headers.authorization);
  const cookie = bearer === null ? readCookie(headers.cookie, SESSION_COOKIE) : null;
  if (cookie === null || !options.authenticateSession) {
    const principal = await authenticate(requirement, bearer, options.authenticateToken);
    if (principal?.kind === 'user' && principal.accessToken && unsafe) {
      throw new FarmError('forbidden', 'an access token only reads; use an API token or a session');
    }
    return principal;
  }
  const principal = await options.authenticateSession(cookie);
  if (!principal) throw new FarmError('unauthenticated', 'the session has ended; sign in again');
  if (unsafe) {
    const sent = headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameText(sent, principal.session?.csrfToken ?? '')) {
      throw new FarmError(
        'forbidden',
        'a request with the session cookie must send the CSRF token in X-Farm-CSRF',
      );
    }
  }
  authorize(requirement, principal);
  return principal;
}
