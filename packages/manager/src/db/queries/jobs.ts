import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import {
  allowedJobActions,
  FarmError,
  JOB_STATUSES,
  type Job,
  type JobLite,
  type JobStatus,
  type ProjectRef,
  type UserRef,
} from '@farm/core';
import type { Database, JobRow, NewJob, ProjectRow } from '../database';

/** Any Kysely executor: the database or a transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** A job row with the names the API shows next to it. */
export interface JobWithRefsRow extends JobRow {
  project_name: string;
  submitter_name: string | null;
}

/** The job's task counters as the API's `TaskCounts`. */
export function toApiTaskCounts(row: JobRow): Job['taskCounts'] {
  return {
    queued: row.tasks_queued,
    active: row.tasks_active,
    completed: row.tasks_completed,
    'soft-failed': row.tasks_soft_failed,
    failed: row.tasks_failed,
    canceled: row.tasks_canceled,
    paused: row.tasks_paused,
    total: row.tasks_total,
  };
}

/** Completed share of the job, refined by the reported steps of running tasks when known. */
export function jobProgress(row: JobRow): number {
  const byTasks = row.tasks_total > 0 ? row.tasks_completed / row.tasks_total : 0;
  const bySteps = row.steps_total > 0 ? row.steps_done / row.steps_total : 0;
  return Math.min(1, Math.max(byTasks, bySteps));
}

/** The API `Job` of a row; the one place jobs are turned into API objects. */
export function toApiJob(row: JobRow, project: ProjectRef, submitter: UserRef | null): Job {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    typeEtag: row.type_etag,
    priority: row.priority,
    status: row.status,
    activity: row.activity,
    settings: row.settings,
    metadata: row.metadata,
    project,
    submitter,
    requiredTags: row.required_tags,
    maxWorkers: row.max_workers,
    notBefore: row.not_before === null ? null : row.not_before.toISOString(),
    failureThresholdPercent: row.failure_threshold_percent,
    taskCounts: toApiTaskCounts(row),
    progress: jobProgress(row),
    created: row.created_at.toISOString(),
    updated: row.updated_at.toISOString(),
    allowedActions: [...allowedJobActions(row.status)],
  };
}

/** `toApiJob` for a row read with `selectJobsWithRefs`. */
export function toApiJobFromRefs(row: JobWithRefsRow): Job {
  return toApiJob(
    row,
    { id: row.project_id, name: row.project_name },
    row.submitter_id === null || row.submitter_name === null
      ? null
      : { id: row.submitter_id, name: row.submitter_name },
  );
}

/** The live-update form of a job. */
export function toApiJobLite(job: Job): JobLite {
  return {
    id: job.id,
    name: job.name,
    type: job.type,
    priority: job.priority,
    status: job.status,
    activity: job.activity,
    project: job.project,
    taskCounts: job.taskCounts,
    progress: job.progress,
    updated: job.updated,
    allowedActions: job.allowedActions,
  };
}

/** Jobs (`j`) joined with their project (`p`) and submitter (`u`). */
export function selectJobsWithRefs(db: Executor) {
  return db
    .selectFrom('jobs as j')
    .innerJoin('projects as p', 'p.id', 'j.project_id')
    .leftJoin('users as u', 'u.id', 'j.submitter_id')
    .selectAll('j')
    .select(['p.name as project_name', 'u.name as submitter_name']);
}

/** One job with its refs, or undefined. */
export async function findJobWithRefs(
  db: Executor,
  jobId: string,
): Promise<JobWithRefsRow | undefined> {
  return selectJobsWithRefs(db).where('j.id', '=', jobId).executeTakeFirst();
}

/** One job as the API shows it; throws `not_found`. */
export async function getApiJob(db: Executor, jobId: string): Promise<Job> {
  const row = await findJobWithRefs(db, jobId);
  if (!row) throw jobNotFound(jobId);
  return toApiJobFromRefs(row);
}

/** The `not_found` error of a job id. */
export function jobNotFound(jobId: string): FarmError {
  return new FarmError('not_found', `there is no job ${jobId}`, { details: { jobId } });
}

/** Locks a job's row for the rest of the transaction (the first lock of any job change). */
export async function lockJob(trx: Transaction<Database>, jobId: string): Promise<JobRow> {
  const row = await trx
    .selectFrom('jobs')
    .selectAll()
    .where('id', '=', jobId)
    .forNoKeyUpdate()
    .executeTakeFirst();
  if (!row) throw jobNotFound(jobId);
  return row;
}

/** Inserts a job row. */
export async function insertJob(db: Executor, job: NewJob): Promise<JobRow> {
  return db.insertInto('jobs').values(job).returningAll().executeTakeFirstOrThrow();
}

/** Looks a project up by name, or by id when `nameOrId` is a UUID. */
export async function findProject(db: Executor, nameOrId: string): Promise<ProjectRow | undefined> {
  let query = db.selectFrom('projects').selectAll();
  query = UUID_PATTERN.test(nameOrId)
    ? query.where((eb) => eb.or([eb('id', '=', nameOrId), eb('name', '=', nameOrId)]))
    : query.where('name', '=', nameOrId);
  return query.executeTakeFirst();
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// -------------------------------------------------------------------------------------------
// Listing

/** The sort columns the job list allows (whitelist: anything else never reaches SQL). */
export type JobSortKey = 'created' | 'updated' | 'priority' | 'name' | 'status';

export interface JobListFilter {
  statuses?: readonly JobStatus[];
  /** Project name or id. */
  project?: string;
  type?: string;
  /** Text the name contains, case-insensitive. */
  text?: string;
  /** Metadata equalities; all must hold. */
  metadata?: readonly (readonly [string, string])[];
  /** Submitting user's name or id. */
  submitter?: string;
  /** Only jobs of these project ids (the projects the caller may see); absent: every project. */
  projectIds?: readonly string[];
}

export interface JobListQuery extends JobListFilter {
  sort: JobSortKey;
  order: 'asc' | 'desc';
  limit: number;
  cursor?: string;
}

// The sort key as SQL, and as a text the cursor carries without losing precision (timestamps
// have microseconds, which a JS Date would round away and make the keyset skip or repeat rows).
const SORT_KEYS: Record<JobSortKey, { expr: RawBuilder<unknown>; cast: RawBuilder<unknown> }> = {
  created: {
    expr: sql`j.created_at`,
    cast: sql`timestamptz`,
  },
  updated: {
    expr: sql`j.updated_at`,
    cast: sql`timestamptz`,
  },
  priority: { expr: sql`j.priority`, cast: sql`int` },
  name: { expr: sql`j.name`, cast: sql`text` },
  // Lifecycle order rather than alphabetical.
  status: {
    expr: sql`array_position(${sql.raw(`array[${JOB_STATUSES.map((s) => `'${s}'`).join(',')}]`)}::text[], j.status)`,
    cast: sql`int`,
  },
};

/** Escapes `%`, `_` and `\` for a LIKE pattern with the default escape character. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

interface CursorValue {
  /** The sort key as text. */
  k: string;
  id: string;
}

export function encodeCursor(value: CursorValue): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes a cursor made by `encodeCursor`; a forged or foreign one is a 400. */
export function decodeCursor(cursor: string): CursorValue {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as CursorValue).k === 'string' &&
      typeof (value as CursorValue).id === 'string' &&
      UUID_PATTERN.test((value as CursorValue).id)
    ) {
      return value as CursorValue;
    }
  } catch {
    // fall through
  }
  throw new FarmError('validation_failed', 'the cursor is not one this list handed out', {
    details: { issues: [{ path: 'query.cursor', message: 'is not a valid cursor' }] },
  });
}

function keyAsText(expr: RawBuilder<unknown>, sort: JobSortKey): RawBuilder<string> {
  // Timestamps in full precision and in UTC, so the text casts back to the same instant.
  return sort === 'created' || sort === 'updated'
    ? sql<string>`to_char(${expr} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
    : sql<string>`(${expr})::text`;
}

/** One page of jobs; `nextCursor` is null on the last page. */
export async function listJobRows(
  db: Executor,
  query: JobListQuery,
): Promise<{ rows: JobWithRefsRow[]; nextCursor: string | null }> {
  const key = SORT_KEYS[query.sort];
  const direction = query.order === 'asc' ? sql`asc` : sql`desc`;
  let select = selectJobsWithRefs(db).select(keyAsText(key.expr, query.sort).as('sort_key'));
  if (query.statuses && query.statuses.length > 0) {
    select = select.where('j.status', 'in', [...query.statuses]);
  }
  if (query.project !== undefined) {
    const project = query.project;
    select = UUID_PATTERN.test(project)
      ? select.where((eb) => eb.or([eb('p.name', '=', project), eb('p.id', '=', project)]))
      : select.where('p.name', '=', project);
  }
  if (query.projectIds !== undefined) {
    if (query.projectIds.length === 0) return { rows: [], nextCursor: null };
    select = select.where('j.project_id', 'in', [...query.projectIds]);
  }
  if (query.type !== undefined) select = select.where('j.type', '=', query.type);
  if (query.text !== undefined) {
    select = select.where(sql<boolean>`j.name ilike ${`%${escapeLike(query.text)}%`}`);
  }
  for (const [name, value] of query.metadata ?? []) {
    select = select.where(sql<boolean>`j.metadata @> ${JSON.stringify({ [name]: value })}::jsonb`);
  }
  if (query.submitter !== undefined) {
    const submitter = query.submitter;
    select = UUID_PATTERN.test(submitter)
      ? select.where((eb) => eb.or([eb('u.name', '=', submitter), eb('u.id', '=', submitter)]))
      : select.where('u.name', '=', submitter);
  }
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    const op = query.order === 'asc' ? sql`>` : sql`<`;
    select = select.where(
      sql<boolean>`(${key.expr}, j.id) ${op} (${after.k}::${key.cast}, ${after.id}::uuid)`,
    );
  }
  const rows = await select
    .orderBy(sql`${key.expr} ${direction}`)
    .orderBy(sql`j.id ${direction}`)
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

/** How many jobs are in each status (optionally of one project, by name or id). */
export async function countJobsByStatus(
  db: Executor,
  project?: string,
  /** Only these project ids (the projects the caller may see); absent: every project. */
  projectIds?: readonly string[],
): Promise<Record<JobStatus, number>> {
  let query = db
    .selectFrom('jobs as j')
    .innerJoin('projects as p', 'p.id', 'j.project_id')
    .select(['j.status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('j.status');
  if (project !== undefined) {
    query = UUID_PATTERN.test(project)
      ? query.where((eb) => eb.or([eb('p.name', '=', project), eb('p.id', '=', project)]))
      : query.where('p.name', '=', project);
  }
  if (projectIds !== undefined) {
    // No visible project: an impossible condition keeps the all-zero answer's shape.
    query =
      projectIds.length === 0
        ? query.where(sql<boolean>`false`)
        : query.where('j.project_id', 'in', [...projectIds]);
  }
  const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<
    JobStatus,
    number
  >;
  for (const row of await query.execute()) counts[row.status] = Number(row.n);
  return counts;
}
