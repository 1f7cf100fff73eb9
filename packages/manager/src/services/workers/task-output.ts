import { FarmError } from '@farm/core';
import type { WorkerPrincipal } from '../../http/principal';
import { taskNotFound } from '../../db/queries/tasks';
import type { PreviewService } from '../previews';
import type { ServiceContext } from '../service-context';
import { taskConflict } from './update-task';

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png']);

/**
 * Accepts an image a task produced for its job's last-rendered view and queues it on the previews
 * service, which makes the thumbnails in the background. Only the task's worker may upload, while
 * the task runs.
 */
export async function storeTaskOutput(
  ctx: ServiceContext,
  previews: PreviewService,
  worker: WorkerPrincipal,
  taskId: string,
  image: Buffer,
  contentType: string,
): Promise<void> {
  if (!IMAGE_TYPES.has(contentType)) {
    throw new FarmError('unsupported_media_type', 'send the image as image/jpeg or image/png');
  }
  const task = await ctx.db
    .selectFrom('tasks')
    .select(['job_id', 'worker_id', 'status'])
    .where('id', '=', taskId)
    .executeTakeFirst();
  if (!task) throw taskNotFound(taskId);
  if (task.worker_id !== worker.workerId) {
    throw taskConflict('not-your-task', `task ${taskId} is not assigned to this worker`);
  }
  if (task.status !== 'active') {
    throw taskConflict('task-not-active', `task ${taskId} is ${task.status}`);
  }
  previews.submit({ jobId: task.job_id, taskId, image });
}
