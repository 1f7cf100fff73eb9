import { FarmError } from '@farm/core';
import type { Logger } from 'winston';
import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import type { UserPrincipal } from '../http/principal';
import {
  createApiToken,
  createSession,
  deleteSession,
  deleteSessionBySecret,
  findUserByName,
  listApiTokens,
  readCookie,
  recordAudit,
  revokeApiToken,
  sessionCookie,
  SESSION_COOKIE,
  verifyPassword,
  type AccessTokens,
  type LoginThrottle,
} from '../services/auth';
import type { ServiceContext } from '../services/service-context';
import type { OperationRegistry } from './operation-registry';

function asUser(principal: unknown): UserPrincipal {
  const user = principal as UserPrincipal | null;
  if (user?.kind !== 'user') throw new FarmError('forbidden', 'this endpoint is for users');
  return user;
}

// Behind a TLS-terminating proxy the cookie must be Secure; the manager itself speaks plain HTTP.
function isHttps(headers: Readonly<Record<string, string | string[] | undefined>> | undefined) {
  return headers?.['x-forwarded-proto'] === 'https';
}

/** Signing in and out, access tokens and personal API tokens (issue 7). */
export function registerAuthRoutes(
  router: OperationRegistry,
  ctx: ServiceContext & { logger: Logger },
  deps: { throttle: LoginThrottle; accessTokens: AccessTokens },
): void {
  const definitions: OperationDefinition[] = [
    defineOperation('login', async ({ body, headers, address = '' }) => {
      const wait = deps.throttle.waitMs(body.name, address);
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        return respond(
          429,
          {
            code: 'rate_limited',
            message: `too many failed logins; try again in ${seconds} s`,
            details: { retryAfterSeconds: seconds },
          },
          { 'Retry-After': String(seconds) },
        );
      }
      const user = await findUserByName(ctx.db, body.name);
      // verifyPassword costs the same for unknown users, so timing does not reveal user names.
      const ok = await verifyPassword(body.password, user?.password_hash ?? null);
      if (!user || !ok || user.disabled_at !== null) {
        deps.throttle.recordFailure(body.name, address);
        await recordAudit(ctx.db, ctx.logger, {
          actor: null,
          action: 'loginFailed',
          status: 401,
          address,
          details: { name: body.name },
        });
        throw new FarmError('unauthenticated', 'wrong user name or password');
      }
      deps.throttle.recordSuccess(body.name);
      // Against session fixation: whatever session the browser brought is ended, and the new one
      // gets a fresh random id; a session id is never accepted from the client.
      const previous = readCookie(headers?.cookie as string | undefined, SESSION_COOKIE);
      if (previous) await deleteSessionBySecret(ctx.db, previous);
      const session = await createSession(ctx.db, user.id, address);
      await recordAudit(ctx.db, ctx.logger, {
        actor: { id: user.id, name: user.name },
        action: 'login',
        status: 200,
        address,
      });
      return respond(
        200,
        {
          user: { id: user.id, name: user.name },
          csrfToken: session.csrfToken,
          expiresAt: session.expiresAt.toISOString(),
        },
        {
          'Set-Cookie': sessionCookie(session.secret, { secure: isHttps(headers) }),
          'Cache-Control': 'no-store',
        },
      );
    }),
    defineOperation('logout', async ({ principal, headers }) => {
      const user = asUser(principal);
      if (user.session) await deleteSession(ctx.db, user.session.id);
      return respond(204, undefined, {
        'Set-Cookie': sessionCookie(null, { secure: isHttps(headers) }),
      });
    }),
    defineOperation('createAccessToken', async ({ principal }) =>
      respond(201, await deps.accessTokens.issue(asUser(principal)), {
        'Cache-Control': 'no-store',
      }),
    ),
    defineOperation('listApiTokens', ({ principal }) => listApiTokens(ctx.db, asUser(principal))),
    defineOperation('createApiToken', async ({ principal, body }) =>
      respond(201, await createApiToken(ctx.db, asUser(principal), body), {
        'Cache-Control': 'no-store',
      }),
    ),
    defineOperation('revokeApiToken', async ({ principal, params }) => {
      await revokeApiToken(ctx.db, asUser(principal), params.tokenId);
      return respond(204);
    }),
  ];
  router.push(...definitions);
}
