import { sql, type RawBuilder } from 'kysely';
import {
  allowedTaskActions,
  FarmError,
  TASK_STATUSES,
  type JobStatus,
  type Task,
  type TaskStatus,
  type TaskSummary,
} from '@farm/core';
import type { TaskRow } from '../database';
import { copyRows } from './copy-rows';
import { decodeCursor, encodeCursor, type Executor } from './jobs';
import { TASK_COPY_CHUNK_ROWS, TASK_COPY_COLUMNS, taskCopyChunks } from './task-copy-chunks';

/** A task as it is about to be stored (ids made in JS so dependencies need no round trip). */
export interface TaskInsert {
  id: string;
  idx: number;
  name: string;
  type: string;
  priority: number;
  tags: readonly string[];
  commands: readonly unknown[];
  unmetDependencies: number;
  steps: number | null;
  status: TaskStatus;
}

/** Rows per INSERT statement of the INSERT variants (`insertTasksWithJson`, ...). */
export const TASK_INSERT_BATCH = 10_000;

// One array literal per column, made in one pass. Elements are double-quoted with `"` and `\`
// escaped (Postgres's array syntax), so `pg` does no per-element work of its own.
function quoteElement(text: string): string {
  return /["\\]/.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : `"${text}"`;
}

function taskColumns(tasks: readonly TaskInsert[]): string[] {
  let ids = '';
  let idxs = '';
  let names = '';
  let types = '';
  let priorities = '';
  let tags = '';
  let statuses = '';
  let unmet = '';
  let steps = '';
  const commands = new Array<readonly unknown[]>(tasks.length);
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    const comma = i === 0 ? '' : ',';
    ids += comma + t.id;
    idxs += comma + t.idx;
    names += comma + quoteElement(t.name);
    types += comma + quoteElement(t.type);
    priorities += comma + t.priority;
    // A task's tags are themselves an array literal, cast per row (unnest cannot take ragged
    // two-dimensional arrays).
    tags +=
      comma +
      (t.tags.length === 0 ? '"{}"' : quoteElement(`{${t.tags.map(quoteElement).join(',')}}`));
    statuses += comma + quoteElement(t.status);
    unmet += comma + t.unmetDependencies;
    steps += comma + (t.steps === null ? 'NULL' : t.steps);
    commands[i] = t.commands;
  }
  const list = (items: string): string => `{${items}}`;
  return [
    list(ids),
    list(idxs),
    list(names),
    list(types),
    list(priorities),
    list(tags),
    list(statuses),
    list(unmet),
    list(steps),
    JSON.stringify(commands),
  ];
}

/**
 * Inserts a job's tasks in bulk with one COPY (`copyRows`), on the connection of `db`: call it
 * with the transaction that inserted the job row, so that the job and its tasks appear together
 * or not at all. The rows are written in chunks of `rowsPerChunk` while Postgres reads the
 * previous ones (PGlite gets them as one blob). Measured against `json_to_recordset`, array
 * literals, `unnest` and VALUES in test/services/jobs/submit-job-bulk.test.ts
 * (FARM_BENCH_INSERT=1); docs/decisions/0018.
 *
 * @throws FarmError `validation_failed` for a task whose text Postgres cannot store (NUL, lone
 *   surrogates); the COPY is then aborted, and so is the caller's transaction.
 */
export async function insertTasks(
  db: Executor,
  jobId: string,
  tasks: readonly TaskInsert[],
  rowsPerChunk = TASK_COPY_CHUNK_ROWS,
): Promise<void> {
  if (tasks.length === 0) return;
  const stored = await copyRows(db, `copy tasks (${TASK_COPY_COLUMNS}) from stdin`, () =>
    taskCopyChunks(jobId, tasks, rowsPerChunk),
  );
  if (stored !== tasks.length) {
    throw new Error(`COPY stored ${stored} of the job's ${tasks.length} tasks`);
  }
}

/**
 * `insertTasks` as it was before COPY (kept for the benchmark): each batch is one JSON text
 * parameter that the database turns into rows (`json_to_recordset`), the next batch's text made
 * while the database stores the previous one. Postgres reads 10,000 records in 125-180 ms; COPY
 * reads them in a fraction of that, and `pg` escapes nothing (docs/decisions/0016, 0018).
 */
export async function insertTasksWithJson(
  db: Executor,
  jobId: string,
  tasks: readonly TaskInsert[],
  batchSize = TASK_INSERT_BATCH,
): Promise<void> {
  let storing: Promise<unknown> | undefined;
  for (let start = 0; start < tasks.length; start += batchSize) {
    const text = JSON.stringify(tasks.slice(start, start + batchSize));
    await storing;
    storing = sql`
      insert into tasks
        (id, job_id, idx, name, type, priority, tags, status, commands, unmet_dependencies, steps)
      select r.id, ${jobId}::uuid, r.idx, r.name, r.type, r.priority, r.tags, r.status,
        r.commands, r."unmetDependencies", r.steps
      from json_to_recordset(${text}::json) as r(
        id uuid, idx int, name text, type text, priority int, tags text[], status text,
        commands jsonb, "unmetDependencies" int, steps int
      )`.execute(db);
    await nextBatchMayStart(storing, start + batchSize < tasks.length);
  }
  await storing;
}

// Lets the statement just issued reach the database before the next batch's text blocks this
// thread (it is sent only after a few promise steps). The failure is handled here so that it is
// no unhandled rejection meanwhile; awaiting `storing` later still throws it.
async function nextBatchMayStart(storing: Promise<unknown>, more: boolean): Promise<void> {
  void storing.catch(() => undefined);
  if (more) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * `insertTasks` over `unnest` of one array literal per column made here, with the commands as
 * one JSON array (kept for the benchmark): Postgres reads 10,000 rows of it in about 20 ms
 * against 150 ms for `json_to_recordset`, but the whole insert was only about 10 % faster on
 * Postgres and about 10 % slower on PGlite.
 */
export async function insertTasksWithLiterals(
  db: Executor,
  jobId: string,
  tasks: readonly TaskInsert[],
  batchSize = TASK_INSERT_BATCH,
): Promise<void> {
  let storing: Promise<unknown> | undefined;
  for (let start = 0; start < tasks.length; start += batchSize) {
    const [ids, idxs, names, types, priorities, tags, statuses, unmet, steps, commands] =
      taskColumns(tasks.slice(start, start + batchSize));
    await storing;
    storing = sql`
      insert into tasks
        (id, job_id, idx, name, type, priority, tags, status, commands, unmet_dependencies, steps)
      -- The commands' sub-select is evaluated once per statement, not once per row.
      select r.id, ${jobId}::uuid, r.idx, r.name, r.type, r.priority, r.tags::text[], r.status,
        (select ${commands}::jsonb) -> (r.n::int - 1), r.unmet, r.steps
      from unnest(
        ${ids}::uuid[], ${idxs}::int[], ${names}::text[], ${types}::text[], ${priorities}::int[],
        ${tags}::text[], ${statuses}::text[], ${unmet}::int[], ${steps}::int[]
      ) with ordinality as r(id, idx, name, type, priority, tags, status, unmet, steps, n)`.execute(
      db,
    );
    await nextBatchMayStart(storing, start + batchSize < tasks.length);
  }
  await storing;
}

/** `insertTasks` with one array parameter per column and `unnest` (kept for the benchmark). */
export async function insertTasksWithUnnest(
  db: Executor,
  jobId: string,
  tasks: readonly TaskInsert[],
  batchSize = TASK_INSERT_BATCH,
): Promise<void> {
  for (let start = 0; start < tasks.length; start += batchSize) {
    const batch = tasks.slice(start, start + batchSize);
    // unnest cannot take ragged 2-D arrays, so tags go as JSON text (null for none).
    await sql`
      insert into tasks
        (id, job_id, idx, name, type, priority, tags, status, commands, unmet_dependencies, steps)
      select u.id, ${jobId}::uuid, u.idx, u.name, u.type, u.priority,
        coalesce(array(select jsonb_array_elements_text(u.tags::jsonb)), '{}'),
        u.status, u.commands::jsonb, u.unmet, u.steps
      from unnest(
        ${batch.map((t) => t.id)}::uuid[],
        ${batch.map((t) => t.idx)}::int[],
        ${batch.map((t) => t.name)}::text[],
        ${batch.map((t) => t.type)}::text[],
        ${batch.map((t) => t.priority)}::int[],
        ${batch.map((t) => (t.tags.length > 0 ? JSON.stringify(t.tags) : null))}::text[],
        ${batch.map((t) => t.status)}::text[],
        ${batch.map((t) => JSON.stringify(t.commands))}::text[],
        ${batch.map((t) => t.unmetDependencies)}::int[],
        ${batch.map((t) => t.steps)}::int[]
      ) as u(id, idx, name, type, priority, tags, status, commands, unmet, steps)`.execute(db);
  }
}

/** `insertTasks` with multi-row VALUES of 1,000 rows (kept for the benchmark). */
export async function insertTasksWithValues(
  db: Executor,
  jobId: string,
  tasks: readonly TaskInsert[],
  batchSize = 1000,
): Promise<void> {
  for (let start = 0; start < tasks.length; start += batchSize) {
    const batch = tasks.slice(start, start + batchSize);
    await db
      .insertInto('tasks')
      .values(
        batch.map((t) => ({
          id: t.id,
          job_id: jobId,
          idx: t.idx,
          name: t.name,
          type: t.type,
          priority: t.priority,
          tags: t.tags,
          status: t.status,
          commands: JSON.stringify(t.commands),
          unmet_dependencies: t.unmetDependencies,
          steps: t.steps,
        })),
      )
      .execute();
  }
}

/** Inserts dependency edges in bulk (`taskIds[i]` depends on `dependsOnIds[i]`). */
export async function insertTaskDependencies(
  db: Executor,
  taskIds: readonly string[],
  dependsOnIds: readonly string[],
): Promise<void> {
  const batch = TASK_INSERT_BATCH * 2;
  for (let start = 0; start < taskIds.length; start += batch) {
    // Two JSON arrays of ids: cheap to serialise, parsed by the database in C.
    await sql`
      insert into task_dependencies (task_id, depends_on_id)
      select t.value::uuid, d.value::uuid
      from json_array_elements_text(${JSON.stringify(taskIds.slice(start, start + batch))}::json)
        with ordinality as t(value, n)
      join json_array_elements_text(${JSON.stringify(dependsOnIds.slice(start, start + batch))}::json)
        with ordinality as d(value, n) using (n)`.execute(db);
  }
}

// -------------------------------------------------------------------------------------------
// Reading

/** A task row with its worker's name. */
export interface TaskWithWorkerRow extends TaskRow {
  worker_name: string | null;
}

/** The API `TaskSummary` of a row; the one place tasks are turned into API summaries. */
export function toApiTaskSummary(row: TaskRow, workerName: string | null): TaskSummary {
  return {
    id: row.id,
    jobId: row.job_id,
    index: row.idx,
    name: row.name,
    type: row.type,
    status: row.status,
    priority: row.priority,
    worker:
      row.worker_id === null ? null : { id: row.worker_id, name: workerName ?? row.worker_id },
    progress: Math.min(1, Math.max(0, row.progress)),
    activity: row.activity,
    updated: row.updated_at.toISOString(),
  };
}

/** The full API `Task`. */
export function toApiTask(
  row: TaskRow,
  workerName: string | null,
  extra: {
    jobStatus: JobStatus;
    dependsOn: string[];
    failedByWorkers: { id: string; name: string }[];
    logSize: number;
  },
): Task {
  const task: Task = {
    ...toApiTaskSummary(row, workerName),
    commands: row.commands as Task['commands'],
    dependsOn: extra.dependsOn,
    failedByWorkers: extra.failedByWorkers,
    lastTouched: row.last_touched_at === null ? null : row.last_touched_at.toISOString(),
    logSize: extra.logSize,
    stepsDone: row.steps_done,
    allowedActions: [...allowedTaskActions(row.status, extra.jobStatus)],
  };
  if (row.steps !== null) task.steps = row.steps;
  return task;
}

/** The `not_found` error of a task id. */
export function taskNotFound(taskId: string): FarmError {
  return new FarmError('not_found', `there is no task ${taskId}`, { details: { taskId } });
}

/** Tasks (`t`) with their worker's name. */
export function selectTasksWithWorker(db: Executor) {
  return db
    .selectFrom('tasks as t')
    .leftJoin('workers as w', 'w.id', 't.worker_id')
    .selectAll('t')
    .select('w.name as worker_name');
}

/** One task with its worker's name, or undefined. */
export async function findTaskWithWorker(
  db: Executor,
  taskId: string,
): Promise<TaskWithWorkerRow | undefined> {
  return selectTasksWithWorker(db).where('t.id', '=', taskId).executeTakeFirst();
}

/** The ids of the tasks `taskId` depends on, in index order. */
export async function findDependencyIds(db: Executor, taskId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('task_dependencies as d')
    .innerJoin('tasks as dep', 'dep.id', 'd.depends_on_id')
    .select('d.depends_on_id')
    .where('d.task_id', '=', taskId)
    .orderBy('dep.idx')
    .execute();
  return rows.map((row) => row.depends_on_id);
}

/** The workers that failed `taskId`, oldest failure first. */
export async function findFailedByWorkers(
  db: Executor,
  taskId: string,
): Promise<{ id: string; name: string }[]> {
  return db
    .selectFrom('task_failures as f')
    .innerJoin('workers as w', 'w.id', 'f.worker_id')
    .select(['w.id', 'w.name'])
    .where('f.task_id', '=', taskId)
    .orderBy('f.failed_at')
    .execute();
}

export type TaskSortKey = 'index' | 'status' | 'updated' | 'name';

export interface TaskListQuery {
  statuses?: readonly TaskStatus[];
  sort: TaskSortKey;
  order: 'asc' | 'desc';
  limit: number;
  cursor?: string;
}

const TASK_SORT_KEYS: Record<
  TaskSortKey,
  { expr: RawBuilder<unknown>; cast: RawBuilder<unknown> }
> = {
  index: { expr: sql`t.idx`, cast: sql`int` },
  status: {
    expr: sql`array_position(${sql.raw(`array[${TASK_STATUSES.map((s) => `'${s}'`).join(',')}]`)}::text[], t.status)`,
    cast: sql`int`,
  },
  updated: { expr: sql`t.updated_at`, cast: sql`timestamptz` },
  name: { expr: sql`t.name`, cast: sql`text` },
};

/** One page of a job's tasks, keyset-paginated on (sort key, id). */
export async function listTaskRows(
  db: Executor,
  jobId: string,
  query: TaskListQuery,
): Promise<{ rows: TaskWithWorkerRow[]; nextCursor: string | null }> {
  const key = TASK_SORT_KEYS[query.sort];
  const direction = query.order === 'asc' ? sql`asc` : sql`desc`;
  const keyText =
    query.sort === 'updated'
      ? sql<string>`to_char(${key.expr} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
      : sql<string>`(${key.expr})::text`;
  let select = selectTasksWithWorker(db)
    .select(keyText.as('sort_key'))
    .where('t.job_id', '=', jobId);
  if (query.statuses && query.statuses.length > 0) {
    select = select.where('t.status', 'in', [...query.statuses]);
  }
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    const op = query.order === 'asc' ? sql`>` : sql`<`;
    select = select.where(
      sql<boolean>`(${key.expr}, t.id) ${op} (${after.k}::${key.cast}, ${after.id}::uuid)`,
    );
  }
  const rows = await select
    .orderBy(sql`${key.expr} ${direction}`)
    .orderBy(sql`t.id ${direction}`)
    .limit(query.limit + 1)
    .execute();
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  const last = page[page.length - 1];
  return {
    rows: page,
    nextCursor: more && last ? encodeCursor({ k: last.sort_key, id: last.id }) : null,
  };
}

/**
 * Every task of a job as the API's `TaskCompactList`, serialised to JSON by the database: for
 * 100,000 tasks that avoids building 100,000 row objects only to take them apart again.
 */
export async function selectTasksCompactJson(db: Executor, jobId: string): Promise<string> {
  const { rows } = await sql<{ body: string }>`
    select json_build_object(
      'ids', coalesce(json_agg(t.id order by t.idx), '[]'),
      'indexes', coalesce(json_agg(t.idx order by t.idx), '[]'),
      'names', coalesce(json_agg(t.name order by t.idx), '[]'),
      'statuses', coalesce(json_agg(t.status order by t.idx), '[]'),
      'types', coalesce(json_agg(t.type order by t.idx), '[]'),
      'workerNames', coalesce(json_agg(w.name order by t.idx), '[]'),
      'updated', coalesce(json_agg(
        to_char(t.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') order by t.idx
      ), '[]'),
      'progress', coalesce(json_agg(t.progress order by t.idx), '[]')
    )::text as body
    from tasks t left join workers w on w.id = t.worker_id
    where t.job_id = ${jobId}`.execute(db);
  return rows[0]?.body ?? '{}';
}
