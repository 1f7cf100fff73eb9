import os from 'node:os';
import { FarmError } from '@farm/core';
import type { CliContext } from '../context';
import { CliExit, EXIT_CODES } from '../exit-codes';

/** Scopes of the token `farm login --user` makes: everything the CLI does, never `admin`. */
export const CLI_TOKEN_SCOPES = ['jobs:read', 'jobs:write', 'workers:read', 'workers:manage'];
/** Days the token `farm login --user` makes stays valid. */
export const CLI_TOKEN_DAYS = 90;

async function call(
  ctx: CliContext,
  url: string,
  path: string,
  init: { body?: unknown; cookie?: string; csrf?: string },
): Promise<{ status: number; body: Record<string, unknown>; setCookie: string | null }> {
  const response = await ctx.io.fetch(
    new Request(`${url}${path}`, {
      method: 'POST',
      headers: {
        ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(init.cookie ? { Cookie: init.cookie } : {}),
        ...(init.csrf ? { 'X-Farm-CSRF': init.csrf } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    }),
  );
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // not JSON: the status says enough
  }
  return { status: response.status, body, setCookie: response.headers.get('set-cookie') };
}

/**
 * Signs in with a user name and password (a short web session), makes a personal API token for
 * this machine with it, and ends the session: the CLI keeps a revocable token, never the password.
 */
export async function tokenFromPassword(
  ctx: CliContext,
  url: string,
  name: string,
  password: string,
): Promise<string> {
  const login = await call(ctx, url, '/api/v1/auth/login', { body: { name, password } });
  if (login.status === 401) {
    throw new CliExit(EXIT_CODES.notAuthenticated, 'wrong user name or password');
  }
  if (login.status !== 200 || !login.setCookie) {
    throw new FarmError(
      login.status === 429 ? 'rate_limited' : 'bad_request',
      typeof login.body.message === 'string'
        ? login.body.message
        : `the manager answered HTTP ${login.status} to the login`,
    );
  }
  const cookie = login.setCookie.split(';', 1)[0]!;
  const csrf = String(login.body.csrfToken);
  try {
    const created = await call(ctx, url, '/api/v1/me/tokens', {
      cookie,
      csrf,
      body: {
        name: `farm CLI on ${os.hostname()}`.slice(0, 200),
        scopes: CLI_TOKEN_SCOPES,
        expiresInDays: CLI_TOKEN_DAYS,
      },
    });
    if (created.status !== 201) {
      throw new FarmError('bad_request', `could not create an API token (HTTP ${created.status})`);
    }
    return String(created.body.secret);
  } finally {
    await call(ctx, url, '/api/v1/auth/logout', { cookie, csrf }).catch(() => undefined);
  }
}
