import type { ServiceContext } from '../service-context';

/** `tasks-bulk-updated` lists task ids only up to this many (the schema's limit). */
const MAX_LISTED_TASK_IDS = 1000;

/** Tells subscribers of a job that many of its tasks changed and should be fetched again. */
export function publishTasksChanged(
  ctx: ServiceContext,
  jobId: string,
  taskIds: readonly string[],
): void {
  if (taskIds.length === 0) return;
  ctx.publish({
    type: 'tasks-bulk-updated',
    jobId,
    refresh: true,
    ...(taskIds.length <= MAX_LISTED_TASK_IDS ? { taskIds: [...taskIds] } : {}),
  });
}
