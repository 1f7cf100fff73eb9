import { sql } from 'kysely';
import { decideWorkerTaskUpdate, type TaskUpdate } from '@farm/core';
import type { JobRow, TaskRow } from '../../db';
import { preparedMarker } from '../../db/prepared-statements';
import type { JobWithRefsRow } from '../../db/queries/jobs';
import { taskNotFound, toApiTaskSummary } from '../../db/queries/tasks';
import type { WorkerPrincipal } from '../../http/principal';
import type { ServiceContext } from '../service-context';
import { rollUpJob } from '../task-transitions';
import type { BatchResult } from './group-commit';
import { logText, managerLog, writeLogs, type PendingLog } from './task-log-lines';
import { publishOutcome, readOutcome, type TaskChangeOutcome } from './task-outcome';
import { explainRefusal, taskConflict } from './task-refusals';

/** One worker report in a batch. */
export interface TaskReport {
  worker: WorkerPrincipal;
  taskId: string;
  update: TaskUpdate;
  /** Log bytes of progress reports held in memory (`progress-buffer.ts`), counted here. */
  heldLogBytes?: number;
}

/**
 * Progress reports (activity, progress, steps, log text; `status: active`) of many tasks in one
 * statement, each guarded as alone: only the assigned worker, only while the task is active. The
 * workers' `last_seen_at` is touched in the same statement (at most every 5 s per worker). A
 * refused report gets the 404/409 it would get alone.
 */
export async function applyProgressReports(
  ctx: ServiceContext,
  reports: readonly TaskReport[],
): Promise<BatchResult<null>[]> {
  const logs = reports.map((report) => (report.update.log ? logText(report.update.log) : null));
  const workerIds = [...new Set(reports.map((report) => report.worker.workerId))];
  const { rows } = await sql<TaskRow>`
    with seen as (
      update workers set last_seen_at = now()
      where id = any(${workerIds}::uuid[])
        and (last_seen_at is null or last_seen_at < now() - interval '5 seconds')
    )
    update tasks t set
      activity = coalesce(d.activity, t.activity),
      progress = coalesce(d.progress, t.progress),
      steps_done = coalesce(d.steps_done, t.steps_done),
      log_size = t.log_size + d.log_bytes,
      last_touched_at = now(),
      updated_at = now()
    from unnest(
      ${reports.map((r) => r.taskId)}::uuid[],
      ${reports.map((r) => r.worker.workerId)}::uuid[],
      ${reports.map((r) => r.update.activity ?? null)}::text[],
      ${reports.map((r) => r.update.progress ?? null)}::real[],
      ${reports.map((r) => r.update.stepsDone ?? null)}::int[],
      ${logs.map((log) => (log === null ? 0 : Buffer.byteLength(log)))}::bigint[]
    ) as d(id, worker_id, activity, progress, steps_done, log_bytes),
    -- Commits without waiting for the WAL flush: a crash may lose a progress report, never a
    -- status change (docs/decisions/0007).
    (select set_config('synchronous_commit', 'off', true)) as async_commit
    where t.id = d.id and t.worker_id = d.worker_id and t.status = 'active'
    returning t.*`.execute(ctx.db);
  const byId = new Map(rows.map((row) => [row.id, row]));
  const pending: PendingLog[] = [];
  const results = reports.map((report, index): BatchResult<null> => {
    const row = byId.get(report.taskId);
    if (!row) return { ok: false, error: null };
    const log = logs[index];
    if (log) pending.push({ jobId: row.job_id, taskId: report.taskId, text: log });
    if (report.update.activity !== undefined || report.update.progress !== undefined) {
      ctx.publish({
        type: 'task-updated',
        jobId: row.job_id,
        task: toApiTaskSummary(row, report.worker.name),
      });
    }
    return { ok: true, value: null };
  });
  await writeLogs(ctx, pending);
  // Refusals are rare: each is explained with one more read.
  return Promise.all(
    results.map(async (result, index) =>
      result.ok
        ? result
        : {
            ok: false as const,
            error: await explainRefusal(ctx.db, reports[index]!.worker, reports[index]!.taskId),
          },
    ),
  );
}

/**
 * `completed` reports of many tasks in one transaction: the jobs are locked once each (in id
 * order, the manager's job-then-task lock order), the tasks are moved per job with one
 * `transitionTasks`, the job counters and the roll-up run once per job, and events go out per
 * job after the commit. Each report is decided by core's rules exactly as alone; a refused one
 * gets the 404/409 it would get alone and leaves the others alone. Failures take the single path
 * (`update-task.ts`): they are rare and carry the failure rules.
 */
export async function applyCompletions(
  ctx: ServiceContext,
  reports: readonly TaskReport[],
): Promise<BatchResult<null>[]> {
  const taskIds = reports.map((report) => report.taskId);
  const logs: PendingLog[] = [];
  // Undecided until the transaction says otherwise; an error (and its stack) is made only for
  // reports that end refused, not for every report of every batch.
  const results: (BatchResult<null> | undefined)[] = reports.map(() => undefined);

  const outcomes = await ctx.db.transaction().execute(async (trx) => {
    // The jobs first (the manager's lock order), with the names their events show.
    const jobs = await sql<JobWithRefsRow>`${sql.raw(preparedMarker('completion-lock-jobs'))}
      select j.*, p.name as project_name, u.name as submitter_name
      from jobs j join projects p on p.id = j.project_id left join users u on u.id = j.submitter_id
      where j.id in (select job_id from tasks where id = any(${taskIds}::uuid[]))
      order by j.id
      for no key update of j`.execute(trx);
    const jobById = new Map(jobs.rows.map((job) => [job.id, job]));
    const tasks = await sql<TaskRow>`${sql.raw(preparedMarker('completion-lock-tasks'))}
      select * from tasks where id = any(${taskIds}::uuid[]) order by id for update`.execute(trx);
    const taskById = new Map(tasks.rows.map((task) => [task.id, task]));

    const accepted: number[] = [];
    reports.forEach((report, index) => {
      const task = taskById.get(report.taskId);
      const job = task && jobById.get(task.job_id);
      if (!task || !job) return;
      const { workerId } = report.worker;
      const decision = decideWorkerTaskUpdate({
        current: task.status,
        reported: 'completed',
        assignedToWorker: task.worker_id === workerId,
        jobStatus: job.status,
        hardFailAfter: job.max_task_failures,
      });
      if (decision.accept && decision.status === 'completed') {
        accepted.push(index);
      } else {
        results[index] = {
          ok: false,
          error:
            task.worker_id !== workerId
              ? taskConflict('not-your-task', `task ${task.id} is not assigned to this worker`)
              : taskConflict(
                  'task-not-active',
                  `task ${task.id}: ${decision.accept ? `is ${task.status}` : decision.reason}`,
                ),
        };
      }
    });
    if (accepted.length === 0) return [];

    const ownLogs = accepted.map((index) => {
      const { worker, taskId, update } = reports[index]!;
      const jobId = taskById.get(taskId)!.job_id;
      const mine: PendingLog[] = [];
      if (update.log) mine.push({ jobId, taskId, text: logText(update.log) });
      mine.push(managerLog(jobId, taskId, `Task completed by worker ${worker.name}`));
      logs.push(...mine);
      return mine.reduce(
        (sum, log) => sum + Buffer.byteLength(log.text),
        reports[index]!.heldLogBytes ?? 0,
      );
    });
    // One statement for every accepted task of every job: what `transitionTasks` does for
    // active -> completed (status, finish time, the jobs' counters, the dependents' unmet
    // counts), and the report's own activity, steps and log bytes. The rows are locked above;
    // a completed task's dependents wait for it, so none of them is among the moved rows.
    const { rows } = await sql<TaskRow>`${sql.raw(preparedMarker('completion-move'))}
      with d as (
        select * from unnest(
          ${accepted.map((index) => reports[index]!.taskId)}::uuid[],
          ${accepted.map((index) => reports[index]!.update.activity ?? 'Completed')}::text[],
          ${accepted.map((index) => reports[index]!.update.stepsDone ?? null)}::int[],
          ${ownLogs}::bigint[]
        ) as d(id, activity, steps_done, log_bytes)
      ),
      moved as (
        update tasks t set
          status = 'completed',
          activity = d.activity,
          progress = 1,
          steps_done = coalesce(d.steps_done, t.steps_done),
          log_size = t.log_size + d.log_bytes,
          last_touched_at = now(),
          finished_at = now(),
          updated_at = now()
        from d
        where t.id = d.id and t.status = 'active'
        returning t.*
      ),
      counted as (
        update jobs j set
          tasks_active = j.tasks_active - m.n,
          tasks_completed = j.tasks_completed + m.n,
          updated_at = now()
        from (select job_id, count(*)::int as n from moved group by job_id) m
        where j.id = m.job_id
      ),
      unblocked as (
        update tasks t set unmet_dependencies = t.unmet_dependencies - x.n
        from (
          select task_id, count(*)::int as n from task_dependencies
          where depends_on_id in (select id from moved)
          group by task_id
        ) x
        where t.id = x.task_id
      )
      select * from moved`.execute(trx);
    const rowById = new Map(rows.map((row) => [row.id, row]));
    for (const index of accepted) {
      const taskId = reports[index]!.taskId;
      results[index] = rowById.has(taskId)
        ? { ok: true, value: null }
        : { ok: false, error: taskConflict('task-not-active', `task ${taskId} is not active`) };
    }

    const byJob = new Map<string, TaskRow[]>();
    for (const row of rows) byJob.set(row.job_id, [...(byJob.get(row.job_id) ?? []), row]);
    const workerNameOf = new Map(
      accepted.map((index) => [reports[index]!.taskId, reports[index]!.worker.name]),
    );
    const outcomes: TaskChangeOutcome[] = [];
    for (const [jobId, moved] of byJob) {
      const locked = jobById.get(jobId)!;
      // The counters as `counted` left them: the lock is ours, so nothing else moved them.
      const now: JobRow = {
        ...locked,
        tasks_active: locked.tasks_active - moved.length,
        tasks_completed: locked.tasks_completed + moved.length,
        updated_at: new Date(),
      };
      const rolled = await rollUpJob(trx, jobId, now);
      const known = moved.map((row) => ({
        row,
        workerName: workerNameOf.get(row.id) ?? null,
        previousStatus: 'active' as const,
      }));
      outcomes.push(
        await readOutcome(trx, jobId, [], rolled, known, {
          project_name: locked.project_name,
          submitter_name: locked.submitter_name,
        }),
      );
    }
    return outcomes;
  });

  // The workers' rows are touched after the commit: a claim locks a worker's row before a job's,
  // so touching it while holding job locks could deadlock. Best effort: the change is committed.
  const workerIds = [
    ...new Set(reports.filter((_r, i) => results[i]?.ok).map((r) => r.worker.workerId)),
  ];
  if (workerIds.length > 0) {
    await sql`
      update workers set last_seen_at = now()
      where id = any(${workerIds}::uuid[])
        and (last_seen_at is null or last_seen_at < now() - interval '5 seconds')`
      .execute(ctx.db)
      .catch((error: unknown) =>
        ctx.logger.warn('could not touch workers after their reports', { error: String(error) }),
      );
  }
  await writeLogs(ctx, logs);
  for (const outcome of outcomes) publishOutcome(ctx, outcome);
  if (outcomes.length > 0) {
    // A completion can unblock dependents or free a max_workers slot; one wake-up per batch.
    ctx.wakeWorkers();
  }
  return results.map(
    (result, index) => result ?? { ok: false, error: taskNotFound(reports[index]!.taskId) },
  );
}
