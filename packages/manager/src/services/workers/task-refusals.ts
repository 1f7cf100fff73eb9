import { FarmError } from '@farm/core';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { taskNotFound } from '../../db/queries/tasks';
import type { WorkerPrincipal } from '../../http/principal';

/** 409 `conflict` with a stable `details.reason`, as the API document describes. */
export function taskConflict(reason: 'not-your-task' | 'task-not-active', message: string) {
  return new FarmError('conflict', message, { details: { reason } });
}

/** Why a worker's guarded report on a task changed nothing: 404, or 409 with the reason. */
export async function explainRefusal(
  db: Kysely<Database>,
  worker: WorkerPrincipal,
  taskId: string,
): Promise<FarmError> {
  const task = await db
    .selectFrom('tasks')
    .select(['status', 'worker_id'])
    .where('id', '=', taskId)
    .executeTakeFirst();
  if (!task) return taskNotFound(taskId);
  if (task.worker_id !== worker.workerId) {
    return taskConflict('not-your-task', `task ${taskId} is not assigned to this worker`);
  }
  return taskConflict(
    'task-not-active',
    `task ${taskId} is ${task.status}; the worker must stop it`,
  );
}
