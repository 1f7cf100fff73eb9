import { sql } from 'kysely';
import { getApiJob, jobProgress, toApiJobLite, toApiTaskCounts } from '../db/queries/jobs';
import type { ServiceContext } from '../services/service-context';

/** What one clean-up run removed. */
export interface CleanUpReport {
  workersRemoved: string[];
  jobsArchived: string[];
  blocklistEntriesExpired: number;
}

const FINISHED = ['completed', 'canceled', 'failed'] as const;
const BATCH = 100;

/**
 * Removes workers offline for longer than `worker_cleanup_age`, archives jobs finished longer
 * than `job_archive_age` ago (the job row stays with an `archived_summary` of its counts; task
 * rows and log files go), and drops expired blocklist entries. An age of 0 turns that part off.
 * `now` is for tests; the database clock is used otherwise.
 */
export async function cleanUp(ctx: ServiceContext, now?: Date): Promise<CleanUpReport> {
  const clock = now ? sql`${now}::timestamptz` : sql`now()`;
  const olderThan = (ms: number) =>
    sql`${clock} - ${ms}::double precision * interval '1 millisecond'`;
  const report: CleanUpReport = {
    workersRemoved: [],
    jobsArchived: [],
    blocklistEntriesExpired: 0,
  };

  const expired = await sql`
    delete from job_blocklist where expires_at is not null and expires_at <= ${clock}`.execute(
    ctx.db,
  );
  report.blocklistEntriesExpired = Number(expired.numAffectedRows ?? 0);

  if (ctx.config.workerCleanupAgeMs > 0) {
    const { rows } = await sql<{ id: string; name: string }>`
      delete from workers
      where status = 'offline'
        and coalesce(last_seen_at, updated_at) < ${olderThan(ctx.config.workerCleanupAgeMs)}
      returning id, name`.execute(ctx.db);
    for (const worker of rows) {
      ctx.logger.info('removed a long-offline worker', { workerId: worker.id, name: worker.name });
      ctx.publish({ type: 'worker-deleted', workerId: worker.id });
      report.workersRemoved.push(worker.id);
    }
  }

  if (ctx.config.jobArchiveAgeMs > 0) {
    const { rows } = await sql<{ id: string }>`
      select id from jobs
      where status = any(${[...FINISHED]}::text[])
        and updated_at < ${olderThan(ctx.config.jobArchiveAgeMs)}
      order by updated_at
      limit ${BATCH}`.execute(ctx.db);
    for (const { id } of rows) {
      const archived = await ctx.db.transaction().execute(async (trx) => {
        const job = await trx
          .selectFrom('jobs')
          .selectAll()
          .where('id', '=', id)
          .where('status', 'in', [...FINISHED])
          .forNoKeyUpdate()
          .executeTakeFirst();
        if (!job) return null;
        await trx
          .updateTable('jobs')
          .set({
            status: 'archived',
            activity: 'Archived by the manager: finished long ago',
            archived_summary: JSON.stringify({
              previousStatus: job.status,
              taskCounts: toApiTaskCounts(job),
              progress: jobProgress(job),
              archivedAt: new Date().toISOString(),
              archivedBy: 'manager',
              reason: 'job_archive_age',
              tasksRemoved: true,
            }),
            updated_at: sql<Date>`now()`,
          })
          .where('id', '=', id)
          .execute();
        await trx.deleteFrom('tasks').where('job_id', '=', id).execute();
        return { previousStatus: job.status, job: await getApiJob(trx, id) };
      });
      if (!archived) continue;
      try {
        await ctx.logs.deleteJob(id);
      } catch (error) {
        ctx.logger.warn('could not delete the logs of an archived job', {
          jobId: id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      ctx.logger.info('archived a finished job', { jobId: id });
      ctx.publish({
        type: 'job-updated',
        job: toApiJobLite(archived.job),
        previousStatus: archived.previousStatus,
      });
      report.jobsArchived.push(id);
    }
  }
  return report;
}
