import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { taskNotFound } from '../../db/queries/tasks';
import { MAX_LOG_READ_BYTES } from '../../storage/task-log-store';
import type { ServiceContext } from '../service-context';

export interface TaskLogQuery {
  tail?: number;
  offset?: number;
  length?: number;
  download?: boolean;
}

/** Part of a task's log: text, or a stream of the whole file (downloads and very big logs). */
export interface TaskLogResult {
  body: string | Readable;
  /** Where `body` starts in the log. */
  offset: number;
  /** The whole log's size when read. */
  size: number;
  /** A file name for `Content-Disposition`. */
  fileName: string;
}

/**
 * Reads a task's log: the whole of it, its `tail` (from a line start), or `offset`/`length`.
 * An absent log reads as empty. @throws FarmError `not_found` for an unknown task.
 */
export async function readTaskLog(
  ctx: ServiceContext,
  taskId: string,
  query: TaskLogQuery,
): Promise<TaskLogResult> {
  const task = await ctx.db
    .selectFrom('tasks')
    .select(['job_id', 'idx'])
    .where('id', '=', taskId)
    .executeTakeFirst();
  if (!task) throw taskNotFound(taskId);
  const fileName = `task-${task.idx}-${taskId}.log`;
  const ranged =
    query.tail !== undefined || query.offset !== undefined || query.length !== undefined;
  if (!ranged) {
    const size = await ctx.logs.size(task.job_id, taskId);
    if (size > MAX_LOG_READ_BYTES || (query.download === true && size > 0)) {
      const body = fs.createReadStream(ctx.logs.pathOf(task.job_id, taskId), { end: size - 1 });
      return { body, offset: 0, size, fileName };
    }
  }
  const chunk = await ctx.logs.read(
    task.job_id,
    taskId,
    query.tail !== undefined
      ? { tail: query.tail }
      : query.offset !== undefined || query.length !== undefined
        ? { offset: query.offset ?? 0, length: query.length ?? MAX_LOG_READ_BYTES }
        : {},
  );
  return { body: chunk.text, offset: chunk.offset, size: chunk.size, fileName };
}
