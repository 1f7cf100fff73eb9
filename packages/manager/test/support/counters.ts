import { sql, type Kysely } from 'kysely';
import { TASK_STATUSES } from '@farm/core';
import { TASK_COUNTER_COLUMNS, type Database } from '../../src/db';

/** The job's counters and the same numbers counted from its task rows. */
export async function countersAndRows(
  db: Kysely<Database>,
  jobId: string,
): Promise<{ counters: Record<string, number>; rows: Record<string, number> }> {
  const job = await db
    .selectFrom('jobs')
    .selectAll()
    .where('id', '=', jobId)
    .executeTakeFirstOrThrow();
  const { rows: grouped } = await sql<{ status: string; n: number }>`
    select status, count(*)::int as n from tasks where job_id = ${jobId} group by status`.execute(
    db,
  );
  const counters: Record<string, number> = { total: job.tasks_total };
  const rows: Record<string, number> = { total: 0 };
  for (const status of TASK_STATUSES) {
    counters[status] = job[TASK_COUNTER_COLUMNS[status]];
    rows[status] = 0;
  }
  for (const { status, n } of grouped) {
    rows[status] = n;
    rows.total = (rows.total ?? 0) + n;
  }
  return { counters, rows };
}

/**
 * Asserts that the job's per-status counters (and `tasks_total`) equal a `count(*) group by
 * status` of its task rows, and that every task's `unmet_dependencies` equals the number of its
 * dependencies that are not completed.
 */
export async function expectCountersMatchRows(db: Kysely<Database>, jobId: string): Promise<void> {
  const { counters, rows } = await countersAndRows(db, jobId);
  expect(counters).toEqual(rows);
  const { rows: wrong } = await sql<{ id: string; stored: number; actual: number }>`
    select t.id, t.unmet_dependencies as stored,
      (select count(*)::int from task_dependencies d join tasks dep on dep.id = d.depends_on_id
        where d.task_id = t.id and dep.status <> 'completed') as actual
    from tasks t where t.job_id = ${jobId}`.execute(db);
  expect(wrong.filter((row) => row.stored !== row.actual)).toEqual([]);
}
