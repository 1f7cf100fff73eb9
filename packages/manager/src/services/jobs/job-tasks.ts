import type { TaskStatus, TaskSummaryPage } from '@farm/core';
import { jobNotFound } from '../../db/queries/jobs';
import {
  listTaskRows,
  selectTasksCompactJson,
  toApiTaskSummary,
  type TaskSortKey,
} from '../../db/queries/tasks';
import type { ServiceContext } from '../service-context';
import { DEFAULT_PAGE_SIZE } from './list-jobs';

export interface ListJobTasksQuery {
  status?: TaskStatus[];
  sort?: TaskSortKey;
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
}

async function assertJobExists(ctx: ServiceContext, jobId: string): Promise<void> {
  const job = await ctx.db
    .selectFrom('jobs')
    .select('id')
    .where('id', '=', jobId)
    .executeTakeFirst();
  if (!job) throw jobNotFound(jobId);
}

/** One page of a job's tasks (index order by default). @throws FarmError `not_found`. */
export async function listJobTasks(
  ctx: ServiceContext,
  jobId: string,
  query: ListJobTasksQuery,
): Promise<TaskSummaryPage> {
  await assertJobExists(ctx, jobId);
  const { rows, nextCursor } = await listTaskRows(ctx.db, jobId, {
    ...(query.status ? { statuses: query.status } : {}),
    ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    sort: query.sort ?? 'index',
    order: query.order ?? 'asc',
    limit: query.limit ?? DEFAULT_PAGE_SIZE,
  });
  return { items: rows.map((row) => toApiTaskSummary(row, row.worker_name)), nextCursor };
}

/**
 * Every task of a job as a `TaskCompactList`, already serialised to JSON (the database builds
 * it; parsing and re-serialising 100,000 tasks would only cost time). @throws `not_found`.
 */
export async function getJobTasksCompact(ctx: ServiceContext, jobId: string): Promise<string> {
  await assertJobExists(ctx, jobId);
  return selectTasksCompactJson(ctx.db, jobId);
}
