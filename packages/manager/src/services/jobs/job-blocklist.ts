import type { JobBlocklist } from '@farm/core';
import { jobNotFound } from '../../db/queries/jobs';
import type { ServiceContext } from '../service-context';

/** The workers kept away from this job's task types. @throws FarmError `not_found`. */
export async function getJobBlocklist(ctx: ServiceContext, jobId: string): Promise<JobBlocklist> {
  const job = await ctx.db
    .selectFrom('jobs')
    .select('id')
    .where('id', '=', jobId)
    .executeTakeFirst();
  if (!job) throw jobNotFound(jobId);
  const rows = await ctx.db
    .selectFrom('job_blocklist as b')
    .innerJoin('workers as w', 'w.id', 'b.worker_id')
    .select(['b.worker_id', 'w.name', 'b.task_type', 'b.created_at'])
    .where('b.job_id', '=', jobId)
    .orderBy('b.created_at')
    .orderBy('w.name')
    .execute();
  return {
    items: rows.map((row) => ({
      workerId: row.worker_id,
      workerName: row.name,
      taskType: row.task_type,
      createdAt: row.created_at.toISOString(),
    })),
  };
}

/**
 * Lets blocklisted workers work on this job's task types again; entries that are not there are
 * ignored. Wakes idle workers, since tasks may have become claimable for them.
 * @throws FarmError `not_found`.
 */
export async function removeJobBlocklistEntries(
  ctx: ServiceContext,
  jobId: string,
  entries: readonly { workerId: string; taskType: string }[],
): Promise<void> {
  const removed = await ctx.db.transaction().execute(async (trx) => {
    const job = await trx
      .selectFrom('jobs')
      .select('id')
      .where('id', '=', jobId)
      .executeTakeFirst();
    if (!job) throw jobNotFound(jobId);
    const result = await trx
      .deleteFrom('job_blocklist')
      .where('job_id', '=', jobId)
      .where((eb) =>
        eb.or(
          entries.map((entry) =>
            eb.and([eb('worker_id', '=', entry.workerId), eb('task_type', '=', entry.taskType)]),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  });
  if (removed > 0) ctx.wakeWorkers();
}
