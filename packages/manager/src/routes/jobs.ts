import { compressedResponse } from '../http/compressed-response';
import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import {
  applyBulkJobAction,
  applyJobAction,
  getJob,
  getJobBlocklist,
  getJobsSummary,
  getJobTasksCompact,
  listJobs,
  listJobTasks,
  removeJobBlocklistEntries,
  submitJob,
} from '../services/jobs';
import { assertJobAccess } from '../services/auth/project-access';
import type { ServiceContext } from '../services/service-context';
import type { OperationRegistry } from './operation-registry';

/** The job operations: submit, list, summary, get, actions (one and bulk), tasks, blocklist. */
export function registerJobRoutes(router: OperationRegistry, ctx: ServiceContext): void {
  const definitions: OperationDefinition[] = [
    defineOperation('submitJob', async ({ principal, body }) =>
      respond(201, await submitJob(ctx, principal, body)),
    ),
    defineOperation('listJobs', ({ principal, query }) => listJobs(ctx, principal, query)),
    defineOperation('getJobsSummary', ({ principal, query }) =>
      getJobsSummary(ctx, principal, query),
    ),
    // One job's project role is checked by the router (`{jobId}` paths, issue 7); a bulk action
    // checks every job it names here.
    defineOperation('getJob', ({ principal, params }) => getJob(ctx, principal, params.jobId)),
    defineOperation('applyJobAction', ({ principal, params, body }) =>
      applyJobAction(ctx, principal, params.jobId, body),
    ),
    defineOperation('applyBulkJobAction', async ({ principal, body }) => {
      await assertJobAccess(ctx.db, principal, body.jobIds, 'control');
      return applyBulkJobAction(ctx, principal, body);
    }),
    defineOperation('listJobTasks', ({ params, query }) => listJobTasks(ctx, params.jobId, query)),
    defineOperation('getJobTasksCompact', async ({ params, headers }) => {
      return compressedResponse(
        await getJobTasksCompact(ctx, params.jobId),
        'application/json; charset=utf-8',
        headers?.['accept-encoding'],
      );
    }),
    defineOperation('getJobBlocklist', ({ params }) => getJobBlocklist(ctx, params.jobId)),
    defineOperation('removeJobBlocklistEntries', async ({ params, body }) => {
      await removeJobBlocklistEntries(ctx, params.jobId, body.entries);
      return respond(204);
    }),
  ];
  router.push(...definitions);
}
