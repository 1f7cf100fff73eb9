import { sql, type Kysely, type Transaction } from 'kysely';
import { validationError, type JobStatus } from '@farm/core';
import type { Database } from '../../db';
import { toApiJobFromRefs, findJobWithRefs, toApiJobLite } from '../../db/queries/jobs';
import type { ServiceContext } from '../service-context';
import { rollUpJob } from '../task-transitions';

type Executor = Kysely<Database> | Transaction<Database>;

/** What `checkJobDependencies` found: the jobs to wait for and whether all of them completed. */
export interface CheckedDependencies {
  ids: string[];
  /** True when every dependency already completed: the job can start at once. */
  allCompleted: boolean;
  /** The unfinished ones, for the waiting job's activity line. */
  pending: { id: string; name: string; status: JobStatus }[];
}

/**
 * Validates `dependsOnJobs` of a submission: every id must be a job of this farm that can still
 * complete (not archived) in a project the submitter may see (`visibleProjects`, null for all; a
 * job elsewhere reads as unknown, so its existence does not leak). A new job cannot close a cycle:
 * nothing depends on it yet, and a job's dependencies are fixed at submission.
 *
 * @throws FarmError `validation_failed` at `dependsOnJobs/<i>` for each unknown or archived job.
 */
export async function checkJobDependencies(
  db: Executor,
  dependsOnJobs: readonly string[],
  visibleProjects: readonly string[] | null = null,
): Promise<CheckedDependencies> {
  const ids = [...new Set(dependsOnJobs)];
  if (ids.length === 0) return { ids, allCompleted: true, pending: [] };
  const rows = await db
    .selectFrom('jobs')
    .select(['id', 'name', 'status', 'project_id'])
    .where('id', 'in', ids)
    .execute();
  const visible = visibleProjects === null ? null : new Set(visibleProjects);
  const byId = new Map(
    rows
      .filter((row) => visible === null || visible.has(row.project_id))
      .map((row) => [row.id, row]),
  );
  const issues = dependsOnJobs.flatMap((id, index) => {
    const row = byId.get(id);
    if (!row) return [{ path: `dependsOnJobs/${index}`, message: `there is no job ${id}` }];
    if (row.status === 'archived') {
      return [{ path: `dependsOnJobs/${index}`, message: `job ${id} is archived and never runs` }];
    }
    return [];
  });
  if (issues.length > 0)
    throw validationError('the job depends on jobs it cannot wait for', issues);
  const pending = [...byId.values()]
    .filter((row) => row.status !== 'completed')
    .map((row) => ({ id: row.id, name: row.name, status: row.status }));
  return { ids, allCompleted: pending.length === 0, pending };
}

/** Stores the edges of a new job (inside its submission transaction). */
export async function insertJobDependencies(
  trx: Transaction<Database>,
  jobId: string,
  dependsOnJobIds: readonly string[],
): Promise<void> {
  if (dependsOnJobIds.length === 0) return;
  await trx
    .insertInto('job_dependencies')
    .values(dependsOnJobIds.map((id) => ({ job_id: jobId, depends_on_job_id: id })))
    .execute();
}

/** The ids a job waits (or waited) for, in a stable order. */
export async function listJobDependencies(db: Executor, jobId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('job_dependencies')
    .select('depends_on_job_id')
    .where('job_id', '=', jobId)
    .orderBy('depends_on_job_id')
    .execute();
  return rows.map((row) => row.depends_on_job_id);
}

/** The activity line of a job waiting for `pending`: names the blockers, and what to do. */
export function waitingActivity(pending: readonly { name: string; status: JobStatus }[]): string {
  const stuck = pending.filter((job) => job.status === 'failed' || job.status === 'canceled');
  if (stuck.length > 0) {
    const first = stuck[0]!;
    return (
      `Waiting: job "${first.name}" is ${first.status}` +
      `${stuck.length > 1 ? ` (and ${stuck.length - 1} more)` : ''}; ` +
      'requeue it to go on, or cancel this job'
    );
  }
  const names = pending.map((job) => `"${job.name}"`);
  const shown =
    names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
  return `Waiting for ${pending.length === 1 ? 'job' : `${pending.length} jobs`} ${shown} to complete`;
}

/** What one dependency check did. */
export interface WaitingJobsResult {
  /** Jobs moved from waiting to queued (or further, e.g. a job without tasks completes). */
  released: string[];
  /** Waiting jobs whose activity line changed (a dependency failed, was canceled or requeued). */
  updated: string[];
}

/**
 * Re-examines waiting jobs: those that depend on `dependencyIds`, or every waiting job when it is
 * omitted (the periodic backstop, and after a job was deleted). A job whose dependencies all
 * completed (or were deleted) moves to `queued` in a guarded update (`status = 'waiting'`), so
 * replicas reacting to the same event release it once; the others only get their activity line
 * refreshed, which says which dependency failed or was canceled. Publishes and wakes workers.
 */
export async function refreshWaitingJobs(
  ctx: ServiceContext,
  dependencyIds?: readonly string[],
): Promise<WaitingJobsResult> {
  let query = ctx.db
    .selectFrom('jobs as j')
    .select(['j.id', 'j.activity'])
    .where('j.status', '=', 'waiting');
  if (dependencyIds !== undefined) {
    if (dependencyIds.length === 0) return { released: [], updated: [] };
    query = query.where('j.id', 'in', (eb) =>
      eb
        .selectFrom('job_dependencies')
        .select('job_id')
        .where('depends_on_job_id', 'in', [...dependencyIds]),
    );
  }
  const waiting = await query.execute();
  const result: WaitingJobsResult = { released: [], updated: [] };
  for (const job of waiting) {
    const pending = await ctx.db
      .selectFrom('job_dependencies as d')
      .innerJoin('jobs as dj', 'dj.id', 'd.depends_on_job_id')
      .select(['dj.id', 'dj.name', 'dj.status'])
      .where('d.job_id', '=', job.id)
      .where('dj.status', '<>', 'completed')
      .orderBy('dj.created_at')
      .execute();
    if (pending.length === 0) {
      const released = await releaseJob(ctx, job.id);
      if (released) result.released.push(job.id);
      continue;
    }
    const activity = waitingActivity(pending);
    if (activity === job.activity) continue;
    const changed = await ctx.db
      .updateTable('jobs')
      .set({ activity, updated_at: sql<Date>`now()` })
      .where('id', '=', job.id)
      .where('status', '=', 'waiting')
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) > 0) {
      result.updated.push(job.id);
      await publishJob(ctx, job.id, undefined);
    }
  }
  if (result.released.length > 0) ctx.wakeWorkers();
  return result;
}

async function releaseJob(ctx: ServiceContext, jobId: string): Promise<boolean> {
  const released = await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('jobs')
      .set({
        status: 'queued',
        activity: 'Every job it waited for completed',
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', jobId)
      .where('status', '=', 'waiting')
      .returning('id')
      .executeTakeFirst();
    if (!row) return false;
    // A job without tasks completes now; one whose tasks were all canceled ends canceled.
    await rollUpJob(trx, jobId);
    return true;
  });
  if (released) {
    ctx.logger.info('waiting job released', { jobId });
    await publishJob(ctx, jobId, 'waiting');
  }
  return released;
}

async function publishJob(
  ctx: ServiceContext,
  jobId: string,
  previousStatus: JobStatus | undefined,
): Promise<void> {
  const row = await findJobWithRefs(ctx.db, jobId);
  if (!row) return;
  ctx.publish({
    type: 'job-updated',
    job: toApiJobLite(toApiJobFromRefs(row)),
    ...(previousStatus !== undefined && previousStatus !== row.status ? { previousStatus } : {}),
  });
}
