import { validationError } from '@farm/core';
import { COPY_NULL, copyJson, copyText, copyTextArray, UnstorableValueError } from './copy-rows';
import type { TaskInsert } from './tasks';

/** The columns of the tasks table that `taskCopyChunks` writes, in its order. */
export const TASK_COPY_COLUMNS =
  'id, job_id, idx, name, type, priority, tags, status, commands, unmet_dependencies, steps';

/** Rows per chunk: each chunk is one CopyData message, so the server starts while we write. */
export const TASK_COPY_CHUNK_ROWS = 2000;

/**
 * A job's task rows in COPY's text format, `rowsPerChunk` rows per string.
 *
 * @throws FarmError `validation_failed` for text that Postgres cannot store (the NUL character,
 *   lone surrogates), naming the task and field; the chunks before it were already produced.
 */
export function* taskCopyChunks(
  jobId: string,
  tasks: readonly TaskInsert[],
  rowsPerChunk = TASK_COPY_CHUNK_ROWS,
): Generator<string> {
  let chunk = '';
  let field = '';
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    try {
      // Ids, numbers and the status are made by the manager: they need no escaping.
      field = 'name';
      const name = copyText(t.name);
      field = 'type';
      const type = copyText(t.type);
      field = 'tags';
      const tags = copyTextArray(t.tags);
      field = 'commands';
      const commands = copyJson(JSON.stringify(t.commands));
      chunk +=
        `${t.id}\t${jobId}\t${t.idx}\t${name}\t${type}\t${t.priority}\t${tags}\t${t.status}\t` +
        `${commands}\t${t.unmetDependencies}\t${t.steps === null ? COPY_NULL : t.steps}\n`;
    } catch (error) {
      if (!(error instanceof UnstorableValueError)) throw error;
      throw validationError(`task "${t.name}" (index ${t.idx}) cannot be stored`, [
        { path: `tasks[${t.idx}].${field}`, message: error.reason },
      ]);
    }
    if ((i + 1) % rowsPerChunk === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}
