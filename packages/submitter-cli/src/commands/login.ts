import type { Command } from 'commander';
import { createFarmClient, type CurrentUser } from '@farm/core';
import { removeStoredLogin, readStoredLogin, writeStoredLogin } from '../config-store';
import { normaliseUrl, unwrapCall, type CliContext, type GlobalOptions } from '../context';
import { CliExit, EXIT_CODES } from '../exit-codes';
import { formatFields } from '../output/format-table';
import { addExamples } from './command-helpers';
import { tokenFromPassword } from './password-login';

const DISCOVERY_TIMEOUT_MS = 3000;

/** `farm login`, `farm whoami`, `farm logout`. */
export function registerLoginCommands(program: Command, ctx: CliContext): void {
  addExamples(
    program
      .command('login')
      .description(
        'check an API token with the manager and keep it (and the URL) in your config folder',
      )
      .argument(
        '[url]',
        'the manager, e.g. http://farm:8080 (default: FARM_URL, or found on the network)',
      )
      .option(
        '--user <name>',
        'sign in with this user name and a password (FARM_PASSWORD, or asked for) instead of a token',
      )
      .option('--json', 'print the result as JSON')
      .action(
        async (
          urlArgument: string | undefined,
          options: { json?: boolean; user?: string },
          command: Command,
        ) => {
          const globals = command.optsWithGlobals<GlobalOptions>();
          const url = normaliseUrl(
            urlArgument ??
              globals.url ??
              (ctx.io.env.FARM_URL || undefined) ??
              (await discover(ctx)),
          );
          const token = options.user
            ? await tokenFromPassword(ctx, url, options.user, await askPassword(ctx, options.user))
            : (globals.token ?? (ctx.io.env.FARM_TOKEN || undefined) ?? (await askToken(ctx, url)));
          const user = await fetchMe(ctx, url, token);
          writeStoredLogin(ctx.configFile, { url, token });
          if (options.json) ctx.printJson({ url, user, configFile: ctx.configFile });
          else
            ctx.print(
              `Logged in to ${url} as ${user.name}. The token is kept in ${ctx.configFile}.`,
            );
        },
      ),
    [
      'farm login http://farm.studio.lan:8080     # asks for the token',
      'farm login http://farm:8080 --token "$TOKEN"',
      'farm login http://farm:8080 --user ann       # asks for the password, keeps a 90-day token',
      'farm login                                 # finds the manager on the network',
    ],
  );

  addExamples(
    program
      .command('whoami')
      .description('show who the token belongs to, on which manager, with roles and scopes')
      .option('--json', 'print the user as JSON')
      .action(async (options: { json?: boolean }, command: Command) => {
        const { url, token } = ctx.connection(command);
        if (!token) {
          throw new CliExit(
            EXIT_CODES.notAuthenticated,
            `not logged in to ${url}: run "farm login"`,
          );
        }
        const user = await fetchMe(ctx, url, token);
        if (options.json) {
          ctx.printJson({ url, ...user });
          return;
        }
        const roles = user.roles.map(
          (role) =>
            `${role.role}${role.project ? ` of ${role.project.name}` : ' of every project'}`,
        );
        ctx.print(
          formatFields([
            [
              'user',
              `${user.name}${user.email ? ` <${user.email}>` : ''}${user.isAdmin ? ' (admin)' : ''}`,
            ],
            ['manager', url],
            ['roles', roles.join(', ') || '-'],
            ['scopes', user.scopes.join(', ') || '-'],
          ]),
        );
      }),
    ['farm whoami', 'farm whoami --json'],
  );

  addExamples(
    program
      .command('logout')
      .description('forget the stored token (it stays valid on the manager until revoked there)')
      .action(() => {
        const stored = readStoredLogin(ctx.configFile);
        if (removeStoredLogin(ctx.configFile)) {
          ctx.print(`Logged out${stored ? ` of ${stored.url}` : ''}.`);
        } else {
          ctx.print('Not logged in; nothing to forget.');
        }
        if (ctx.io.env.FARM_TOKEN) ctx.note('note: FARM_TOKEN is still set in your environment.');
      }),
    ['farm logout'],
  );
}

async function discover(ctx: CliContext): Promise<string> {
  ctx.note('Looking for a Farm manager on the network...');
  const found = await ctx.io.discover(DISCOVERY_TIMEOUT_MS);
  if (!found) {
    throw new CliExit(
      EXIT_CODES.unreachable,
      'found no Farm manager on the network; give its URL: farm login http://HOST:8080',
    );
  }
  ctx.note(`Found ${found}.`);
  return found;
}

async function askToken(ctx: CliContext, url: string): Promise<string> {
  if (!ctx.io.stdinIsTTY) {
    throw new CliExit(
      EXIT_CODES.invalidInput,
      'no token given: pass --token TOKEN or set FARM_TOKEN (farm asks for it only on a terminal)',
    );
  }
  const token = (await ctx.io.prompt(`API token for ${url}: `)).trim();
  if (!token) throw new CliExit(EXIT_CODES.invalidInput, 'no token given');
  return token;
}

async function askPassword(ctx: CliContext, user: string): Promise<string> {
  const fromEnv = ctx.io.env.FARM_PASSWORD;
  if (fromEnv) return fromEnv;
  if (!ctx.io.stdinIsTTY) {
    throw new CliExit(
      EXIT_CODES.invalidInput,
      'no password given: set FARM_PASSWORD (farm asks for it only on a terminal)',
    );
  }
  const password = await ctx.io.prompt(`Password of ${user}: `);
  if (!password) throw new CliExit(EXIT_CODES.invalidInput, 'no password given');
  return password;
}

async function fetchMe(ctx: CliContext, url: string, token: string): Promise<CurrentUser> {
  const client = createFarmClient({ url, token, fetch: ctx.io.fetch });
  return unwrapCall(client.GET('/api/v1/me'));
}
