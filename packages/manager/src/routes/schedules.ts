import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import {
  assertMaySeeSchedule,
  createSchedule,
  deleteSchedule,
  getSchedule,
  listScheduleRuns,
  listSchedules,
  updateSchedule,
} from '../services/schedules';
import type { ServiceContext } from '../services/service-context';
import type { OperationRegistry } from './operation-registry';

/** The schedule operations: list, create, get, change (enable/disable), delete, run history. */
export function registerScheduleRoutes(router: OperationRegistry, ctx: ServiceContext): void {
  const definitions: OperationDefinition[] = [
    // Filtered like jobs: a schedule shows only to callers with a role in its project (issue 7).
    defineOperation('listSchedules', ({ principal }) => listSchedules(ctx, principal)),
    defineOperation('createSchedule', async ({ principal, body }) =>
      respond(201, await createSchedule(ctx, principal, body)),
    ),
    defineOperation('getSchedule', ({ principal, params }) =>
      getSchedule(ctx, params.scheduleId, principal),
    ),
    defineOperation('updateSchedule', ({ principal, params, body }) =>
      updateSchedule(ctx, principal, params.scheduleId, body),
    ),
    defineOperation('deleteSchedule', async ({ principal, params }) => {
      await deleteSchedule(ctx, principal, params.scheduleId);
      return respond(204);
    }),
    defineOperation('listScheduleRuns', async ({ principal, params, query }) => {
      await assertMaySeeSchedule(ctx, principal, params.scheduleId);
      return listScheduleRuns(ctx, params.scheduleId, query.limit);
    }),
  ];
  router.push(...definitions);
}
