import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import {
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
    defineOperation('listSchedules', () => listSchedules(ctx)),
    defineOperation('createSchedule', async ({ principal, body }) =>
      respond(201, await createSchedule(ctx, principal, body)),
    ),
    defineOperation('getSchedule', ({ params }) => getSchedule(ctx, params.scheduleId)),
    defineOperation('updateSchedule', ({ principal, params, body }) =>
      updateSchedule(ctx, principal, params.scheduleId, body),
    ),
    defineOperation('deleteSchedule', async ({ principal, params }) => {
      await deleteSchedule(ctx, principal, params.scheduleId);
      return respond(204);
    }),
    defineOperation('listScheduleRuns', ({ params, query }) =>
      listScheduleRuns(ctx, params.scheduleId, query.limit),
    ),
  ];
  router.push(...definitions);
}
