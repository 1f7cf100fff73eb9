import type { Job, JobPage, JobsSummary, JobStatus } from '@farm/core';
import {
  countJobsByStatus,
  getApiJob,
  listJobRows,
  toApiJobFromRefs,
  type JobSortKey,
} from '../../db/queries/jobs';
import type { Principal } from '../../http/principal';
import { visibleProjectIds } from '../auth/project-access';
import type { ServiceContext } from '../service-context';
import { listJobDependencies } from './job-dependencies';

/** The job list's query, as the `listJobs` operation validated it. */
export interface ListJobsQuery {
  status?: JobStatus[];
  project?: string;
  type?: string;
  q?: string;
  /** `key=value` metadata equalities. */
  meta?: string[];
  submitter?: string;
  sort?: JobSortKey;
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
}

export const DEFAULT_PAGE_SIZE = 100;

/** Splits `key=value` at the first `=` (values may contain more). */
function parseMeta(pair: string): readonly [string, string] {
  const at = pair.indexOf('=');
  return [pair.slice(0, at), pair.slice(at + 1)];
}

/**
 * One page of jobs matching the filters, sorted on a whitelisted column (ties by id) and paged
 * with an opaque keyset cursor, so walking the pages returns every job exactly once even while
 * jobs are added.
 */
export async function listJobs(
  ctx: ServiceContext,
  principal: Principal | null,
  query: ListJobsQuery,
): Promise<JobPage> {
  const projectIds = visibleProjectIds(principal);
  const { rows, nextCursor } = await listJobRows(ctx.db, {
    ...(projectIds !== null ? { projectIds } : {}),
    ...(query.status ? { statuses: query.status } : {}),
    ...(query.project !== undefined ? { project: query.project } : {}),
    ...(query.type !== undefined ? { type: query.type } : {}),
    ...(query.q !== undefined ? { text: query.q } : {}),
    ...(query.meta ? { metadata: query.meta.map(parseMeta) } : {}),
    ...(query.submitter !== undefined ? { submitter: query.submitter } : {}),
    ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    sort: query.sort ?? 'created',
    order: query.order ?? 'desc',
    limit: query.limit ?? DEFAULT_PAGE_SIZE,
  });
  return { items: rows.map(toApiJobFromRefs), nextCursor };
}

/** How many jobs are in each status, of every project or of one. */
export async function getJobsSummary(
  ctx: ServiceContext,
  principal: Principal | null,
  query: { project?: string },
): Promise<JobsSummary> {
  const counts = await countJobsByStatus(
    ctx.db,
    query.project,
    visibleProjectIds(principal) ?? undefined,
  );
  return { counts, total: Object.values(counts).reduce((sum, n) => sum + n, 0) };
}

/** One job. @throws FarmError `not_found`. */
export async function getJob(
  ctx: ServiceContext,
  _principal: Principal | null,
  jobId: string,
): Promise<Job> {
  const job = await getApiJob(ctx.db, jobId);
  const dependsOnJobs = await listJobDependencies(ctx.db, jobId);
  return dependsOnJobs.length > 0 ? { ...job, dependsOnJobs } : job;
}
