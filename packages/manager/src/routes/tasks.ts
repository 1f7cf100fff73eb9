import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import { applyTaskAction, applyTaskActions, getTask, readTaskLog } from '../services/jobs';
import { assertTaskAccess } from '../services/auth/project-access';
import type { ServiceContext } from '../services/service-context';
import type { OperationRegistry } from './operation-registry';

/** The task operations: get, actions (one and bulk), log. */
export function registerTaskRoutes(router: OperationRegistry, ctx: ServiceContext): void {
  const definitions: OperationDefinition[] = [
    // One task's project role is checked by the router (`{taskId}` paths, issue 7); a bulk action
    // checks every task it names here.
    defineOperation('getTask', ({ params }) => getTask(ctx, params.taskId)),
    defineOperation('applyTaskAction', ({ principal, params, body }) =>
      applyTaskAction(ctx, principal, params.taskId, body),
    ),
    defineOperation('applyBulkTaskAction', async ({ principal, body }) => {
      await assertTaskAccess(ctx.db, principal, body.taskIds, 'control');
      return { results: await applyTaskActions(ctx, principal, body.taskIds, body) };
    }),
    defineOperation('getTaskLog', async ({ params, query }) => {
      const log = await readTaskLog(ctx, params.taskId, query);
      return respond(200, log.body, {
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Log-Size': String(log.size),
        'X-Log-Offset': String(log.offset),
        'Cache-Control': 'no-store',
        ...(query.download === true
          ? { 'Content-Disposition': `attachment; filename="${log.fileName}"` }
          : {}),
      });
    }),
  ];
  router.push(...definitions);
}
