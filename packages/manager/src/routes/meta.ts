import { FarmError, type CurrentUser, type Scope } from '@farm/core';
import { defineOperation, type OperationDefinition } from '../http/define-operation';
import type { ServiceContext } from '../services/service-context';
import type { OperationRegistry } from './operation-registry';

const ALL_SCOPES: Scope[] = [
  'jobs:read',
  'jobs:write',
  'workers:read',
  'workers:manage',
  'metrics:read',
  'admin',
];

/** The meta operations that need the services: variables per audience and platform, the caller. */
export function registerMetaRoutes(router: OperationRegistry, ctx: ServiceContext): void {
  const definitions: OperationDefinition[] = [
    defineOperation('getVariables', ({ params }) => {
      const resolved = ctx.variables.lookup(params.audience, params.platform);
      const variables: Record<string, { value: string; twoWay: boolean }> = {};
      for (const name of Object.keys(resolved).sort()) {
        const variable = resolved[name]!;
        variables[name] = { value: variable.value, twoWay: variable.isTwoWay };
      }
      return { audience: params.audience, platform: params.platform, variables };
    }),
    defineOperation('getCurrentUser', async ({ principal }): Promise<CurrentUser> => {
      if (principal?.kind !== 'user')
        throw new FarmError('forbidden', 'this endpoint is for users');
      const user = await ctx.db
        .selectFrom('users')
        .select(['id', 'name', 'email', 'is_admin'])
        .where('id', '=', principal.userId)
        .executeTakeFirst();
      if (!user) throw new FarmError('unauthenticated', 'the user of this credential is gone');
      const roles = await ctx.db
        .selectFrom('project_members as m')
        .innerJoin('projects as p', 'p.id', 'm.project_id')
        .select(['p.id', 'p.name', 'm.role'])
        .where('m.user_id', '=', user.id)
        .orderBy('p.name')
        .execute();
      const scopes = user.is_admin
        ? ALL_SCOPES
        : ALL_SCOPES.filter((scope) => principal.scopes.includes(scope));
      return {
        id: user.id,
        name: user.name,
        email: user.email,
        isAdmin: user.is_admin,
        roles: roles.map((row) => ({ project: { id: row.id, name: row.name }, role: row.role })),
        scopes,
        tokenId: principal.tokenId ?? null,
      };
    }),
  ];
  router.push(...definitions);
}
