import fsp from 'node:fs/promises';
import path from 'node:path';
import { FarmError } from '@farm/core';
import type { WorkerPrincipal } from '../../http/principal';
import { taskNotFound } from '../../db/queries/tasks';
import type { ServiceContext } from '../service-context';
import { taskConflict } from './update-task';

const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png' };

/**
 * Stores an image a task produced as its job's latest preview,
 * `<storage>/previews/<jobId>/latest.<jpg|png>`, and records it in `last_rendered`. Only the
 * task's worker may upload, while the task runs. (Thumbnails and the live event come later.)
 */
export async function storeTaskOutput(
  ctx: ServiceContext,
  worker: WorkerPrincipal,
  taskId: string,
  image: Buffer,
  contentType: string,
): Promise<void> {
  const extension = EXTENSIONS[contentType];
  if (!extension) {
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
  const dir = path.join(ctx.config.storageDir, 'previews', task.job_id);
  const file = path.join(dir, `latest.${extension}`);
  await fsp.mkdir(dir, { recursive: true });
  // Write then rename, so a reader never sees half an image.
  const scratch = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fsp.writeFile(scratch, image);
  await fsp.rename(scratch, file);
  const stored = path.relative(ctx.config.storageDir, file);
  await ctx.db
    .insertInto('last_rendered')
    .values({ job_id: task.job_id, task_id: taskId, path: stored })
    .onConflict((oc) =>
      oc.column('job_id').doUpdateSet({ task_id: taskId, path: stored, updated_at: new Date() }),
    )
    .execute();
}
