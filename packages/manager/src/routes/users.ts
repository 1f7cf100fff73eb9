import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import {
  createProject,
  createUser,
  listAuditLog,
  listProjects,
  listUsers,
  removeProjectMember,
  setProjectMember,
  updateUser,
} from '../services/auth';
import type { ServiceContext } from '../services/service-context';
import type { OperationRegistry } from './operation-registry';

/** Users, projects, project roles and the audit log (issue 7; farm admins, but `listProjects`). */
export function registerUserRoutes(router: OperationRegistry, ctx: ServiceContext): void {
  const definitions: OperationDefinition[] = [
    defineOperation('listUsers', () => listUsers(ctx.db)),
    defineOperation('createUser', async ({ body }) => respond(201, await createUser(ctx.db, body))),
    defineOperation('updateUser', ({ params, body }) => updateUser(ctx.db, params.userId, body)),
    defineOperation('listProjects', ({ principal }) => listProjects(ctx.db, principal)),
    defineOperation('createProject', async ({ body }) =>
      respond(201, await createProject(ctx.db, body)),
    ),
    defineOperation('setProjectMember', async ({ params, body }) => {
      await setProjectMember(ctx.db, params.projectId, params.userId, body.role);
      return respond(204);
    }),
    defineOperation('removeProjectMember', async ({ params }) => {
      await removeProjectMember(ctx.db, params.projectId, params.userId);
      return respond(204);
    }),
    defineOperation('listAuditLog', ({ query }) => listAuditLog(ctx.db, query)),
  ];
  router.push(...definitions);
}
