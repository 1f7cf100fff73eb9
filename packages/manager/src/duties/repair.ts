import { sql } from 'kysely';
import { TASK_STATUSES, taskStatusWhenStopped, type TaskStatus } from '@farm/core';
import { TASK_COUNTER_COLUMNS } from '../db';
import { lockJob } from '../db/queries/jobs';
import { rollUpJob, transitionTasks } from '../services/task-transitions';
import { handBackWorkerTasks } from '../services/workers/hand-back-tasks';
import { publishOutcome, readOutcome } from '../services/workers/task-outcome';
import type { WorkerServiceContext } from '../services/workers/worker-deps';

/** What one repair run fixed. */
export interface RepairReport {
  /** Jobs left in `*-requested` with nothing running, or in `requeueing`, rolled up again. */
  jobsRolledUp: string[];
  /** Tasks active on offline, error or deleted workers, handed back. */
  tasksHandedBack: string[];
  /** Jobs whose counters disagreed with their task rows, with the differences. */
  countersFixed: {
    jobId: string;
    differences: Record<string, { counter: number; rows: number }>;
  }[];
}

type Counts = Record<TaskStatus | 'total', number>;

const COUNT_COLUMNS = sql.join(
  TASK_STATUSES.map(
    (status) => sql`count(*) filter (where t.status = ${status})::int as ${sql.ref(status)}`,
  ),
  sql`, `,
);

/**
 * Puts right what a crash or a bug can leave behind, and logs each fix: jobs stuck in
 * `pause-requested`/`cancel-requested` with no active task or in `requeueing` get their roll-up
 * again; tasks active on workers that are offline, in error or gone are handed back (no failure
 * counted); job counters that disagree with a count of the task rows are corrected (warned, with
 * the job id and the differences). Runs at start-up and periodically.
 */
export async function repairState(ctx: WorkerServiceContext): Promise<RepairReport> {
  const report: RepairReport = { jobsRolledUp: [], tasksHandedBack: [], countersFixed: [] };

  // Orphaned tasks first: their hand-back may finish a `*-requested` job by itself.
  const orphans = await ctx.db
    .selectFrom('tasks as t')
    .leftJoin('workers as w', 'w.id', 't.worker_id')
    .select(['t.id', 't.job_id', 't.worker_id', 'w.name', 'w.status'])
    .where('t.status', '=', 'active')
    .where((eb) => eb.or([eb('w.id', 'is', null), eb('w.status', 'in', ['offline', 'error'])]))
    .execute();
  const byWorker = new Map<string, string>();
  const workerless = new Map<string, string[]>();
  for (const task of orphans) {
    if (task.worker_id !== null && task.name !== null) byWorker.set(task.worker_id, task.name);
    else workerless.set(task.job_id, [...(workerless.get(task.job_id) ?? []), task.id]);
  }
  for (const [id, name] of byWorker) {
    const reason = `Handed back by the manager: worker ${name} is no longer running it`;
    report.tasksHandedBack.push(...(await handBackWorkerTasks(ctx, { id, name }, reason)));
  }
  for (const [jobId, taskIds] of workerless) {
    const reason = 'Handed back by the manager: its worker was removed';
    const outcome = await ctx.db.transaction().execute(async (trx) => {
      const job = await lockJob(trx, jobId);
      const { moved, cascaded } = await transitionTasks(trx, {
        jobId,
        taskIds,
        from: ['active'],
        to: taskStatusWhenStopped(job.status),
        activity: reason,
      });
      if (moved.length === 0) return null;
      return readOutcome(trx, jobId, [...moved, ...cascaded], await rollUpJob(trx, jobId));
    });
    if (!outcome) continue;
    report.tasksHandedBack.push(...taskIds);
    publishOutcome(ctx, outcome);
    ctx.wakeWorkers();
  }

  const stuck = await ctx.db
    .selectFrom('jobs as j')
    .select('j.id')
    .where((eb) =>
      eb.or([
        eb('j.status', '=', 'requeueing'),
        eb.and([
          eb('j.status', 'in', ['pause-requested', 'cancel-requested']),
          eb.not(
            eb.exists(
              eb
                .selectFrom('tasks as t')
                .select('t.id')
                .whereRef('t.job_id', '=', 'j.id')
                .where('t.status', '=', 'active'),
            ),
          ),
        ]),
      ]),
    )
    .execute();
  for (const { id } of stuck) {
    const outcome = await ctx.db.transaction().execute(async (trx) => {
      const rolled = await rollUpJob(trx, id);
      if (rolled.job.status === rolled.previousStatus) return null;
      return readOutcome(trx, id, [], rolled);
    });
    if (!outcome) continue;
    report.jobsRolledUp.push(id);
    ctx.logger.warn('repaired a stuck job', {
      jobId: id,
      from: outcome.previousJobStatus,
      to: outcome.job.status,
    });
    publishOutcome(ctx, outcome);
  }

  report.countersFixed = await repairCounters(ctx);
  return report;
}

async function countRows(
  db: WorkerServiceContext['db'],
  jobIds: readonly string[] | null,
): Promise<Map<string, Counts>> {
  const only = jobIds === null ? sql`` : sql`where j.id = any(${[...jobIds]}::uuid[])`;
  const { rows } = await sql<Counts & { id: string }>`
    select j.id, count(t.id)::int as total, ${COUNT_COLUMNS}
    from jobs j left join tasks t on t.job_id = j.id
    ${only}
    group by j.id`.execute(db);
  return new Map(rows.map((row) => [row.id, row]));
}

async function repairCounters(ctx: WorkerServiceContext): Promise<RepairReport['countersFixed']> {
  // Archived jobs keep the counts of tasks that clean-up removed.
  const { rows: suspects } = await sql<{ id: string }>`
    select j.id from jobs j
    left join lateral (
      select count(*)::int as total, ${COUNT_COLUMNS} from tasks t where t.job_id = j.id
    ) c on true
    where j.status <> 'archived' and (j.tasks_total <> c.total or ${sql.join(
      TASK_STATUSES.map(
        (status) =>
          sql`${sql.ref(`j.${TASK_COUNTER_COLUMNS[status]}`)} <> ${sql.ref(`c.${status}`)}`,
      ),
      sql` or `,
    )})`.execute(ctx.db);
  const fixed: RepairReport['countersFixed'] = [];
  for (const { id } of suspects) {
    const result = await ctx.db.transaction().execute(async (trx) => {
      // Recount under the job lock: a transition in between would otherwise look like drift.
      const job = await lockJob(trx, id);
      const counts = (await countRows(trx, [id])).get(id);
      if (!counts) return null;
      const differences: Record<string, { counter: number; rows: number }> = {};
      if (job.tasks_total !== counts.total) {
        differences.total = { counter: job.tasks_total, rows: counts.total };
      }
      for (const status of TASK_STATUSES) {
        const counter = job[TASK_COUNTER_COLUMNS[status]];
        if (counter !== counts[status]) differences[status] = { counter, rows: counts[status] };
      }
      if (Object.keys(differences).length === 0) return null;
      const values: Record<string, number> = { tasks_total: counts.total };
      for (const status of TASK_STATUSES) values[TASK_COUNTER_COLUMNS[status]] = counts[status];
      await trx.updateTable('jobs').set(values).where('id', '=', id).execute();
      const rolled = await rollUpJob(trx, id);
      return { differences, outcome: await readOutcome(trx, id, [], rolled) };
    });
    if (!result) continue;
    ctx.logger.warn('repaired job counters that disagreed with its tasks', {
      jobId: id,
      differences: result.differences,
    });
    fixed.push({ jobId: id, differences: result.differences });
    publishOutcome(ctx, result.outcome);
  }
  return fixed;
}
