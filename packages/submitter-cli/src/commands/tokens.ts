import type { Command } from 'commander';
import type { Scope } from '@farm/core';
import { unwrapCall, type CliContext } from '../context';
import { formatTable } from '../output/format-table';
import { addExamples, collectList, parseIntOption } from './command-helpers';
import { invalidInput } from '../exit-codes';

const SCOPES: Scope[] = [
  'jobs:read',
  'jobs:write',
  'workers:read',
  'workers:manage',
  'metrics:read',
  'admin',
];

function checkScopes(scopes: string[]): Scope[] {
  for (const scope of scopes) {
    if (!SCOPES.includes(scope as Scope)) {
      throw invalidInput(`unknown scope "${scope}" (one of ${SCOPES.join(', ')})`);
    }
  }
  return scopes as Scope[];
}

/** `farm token create|list|revoke`: the caller's personal API tokens. */
export function registerTokenCommands(program: Command, ctx: CliContext): void {
  const token = addExamples(
    program.command('token').description('create, list and revoke your personal API tokens'),
    ['farm token create "render script" --scope jobs:read,jobs:write', 'farm token list'],
  );

  addExamples(
    token
      .command('create')
      .description('create a token; its secret is printed once and never shown again')
      .argument('<name>', 'what the token is for, e.g. "render script"')
      .option(
        '--scope <scope>',
        `a scope (repeat or comma-separate): ${SCOPES.join(', ')} (default: jobs:read)`,
        collectList,
      )
      .option(
        '--expires-days <days>',
        'stop working after this many days',
        parseIntOption('--expires-days', 1, 3650),
      )
      .option('--json', 'print the token and its secret as JSON')
      .action(
        async (
          name: string,
          options: { scope?: string[]; expiresDays?: number; json?: boolean },
          command: Command,
        ) => {
          const client = ctx.client(command);
          const created = await unwrapCall(
            client.POST('/api/v1/me/tokens', {
              body: {
                name,
                scopes: checkScopes(options.scope ?? ['jobs:read']),
                ...(options.expiresDays !== undefined
                  ? { expiresInDays: options.expiresDays }
                  : {}),
              },
            }),
          );
          if (options.json) {
            ctx.printJson(created);
            return;
          }
          ctx.print(created.secret);
          ctx.note(
            `Token "${created.token.name}" (${created.token.id}), scopes ${created.token.scopes.join(', ')}` +
              `${created.token.expiresAt ? `, expires ${created.token.expiresAt}` : ''}. ` +
              'Keep the secret above: it is not shown again.',
          );
        },
      ),
    [
      'farm token create "nightly script" --scope jobs:read,jobs:write --expires-days 30',
      'FARM_TOKEN=$(farm token create ci) farm jobs',
    ],
  );

  addExamples(
    token
      .command('list')
      .description('list your tokens (never their secrets), with last use and expiry')
      .option('--json', 'print the tokens as JSON')
      .action(async (options: { json?: boolean }, command: Command) => {
        const list = await unwrapCall(ctx.client(command).GET('/api/v1/me/tokens'));
        if (options.json) {
          ctx.printJson(list.items);
          return;
        }
        ctx.print(
          formatTable(
            ['NAME', 'ID', 'SCOPES', 'CREATED', 'LAST USED', 'EXPIRES', 'STATE'],
            list.items.map((t) => [
              t.name,
              t.id,
              t.scopes.join(','),
              t.createdAt,
              t.lastUsedAt ?? '-',
              t.expiresAt ?? 'never',
              t.revokedAt
                ? 'revoked'
                : t.expiresAt && Date.parse(t.expiresAt) <= Date.now()
                  ? 'expired'
                  : 'active',
            ]),
          ),
        );
      }),
    ['farm token list', 'farm token list --json'],
  );

  addExamples(
    token
      .command('revoke')
      .description('revoke a token at once (scripts using it get 401)')
      .argument('<id>', 'the token id (farm token list)')
      .action(async (id: string, _options: unknown, command: Command) => {
        await unwrapCall(
          ctx
            .client(command)
            .DELETE('/api/v1/me/tokens/{tokenId}', { params: { path: { tokenId: id } } }),
        );
        ctx.print(`Revoked token ${id}.`);
      }),
    ['farm token revoke 0b6c7a52-1f0e-4c55-9d0e-1f5a0d3c2b11'],
  );
}
