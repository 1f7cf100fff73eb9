import { sql, type Kysely, type Transaction } from 'kysely';
import { FarmError } from '@farm/core';
import type { Database, SleepScheduleRow, WorkerRow } from '../tables';

type Executor = Kysely<Database> | Transaction<Database>;

/** A worker row with the task it runs now (if any). */
export interface WorkerWithTaskRow extends WorkerRow {
  current_task_id: string | null;
  current_task_job_id: string | null;
  current_task_name: string | null;
}

/** The `not_found` error of a worker id. */
export function workerNotFound(workerId: string): FarmError {
  return new FarmError('not_found', `there is no worker ${workerId}`, { details: { workerId } });
}

/** Workers (`w`) with their current active task (the oldest one, should there be several). */
export function selectWorkersWithTask(db: Executor) {
  return db
    .selectFrom('workers as w')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('tasks as t')
          .select(['t.id', 't.job_id', 't.name'])
          .whereRef('t.worker_id', '=', 'w.id')
          .where('t.status', '=', 'active')
          .orderBy('t.started_at')
          .limit(1)
          .as('ct'),
      (join) => join.onTrue(),
    )
    .selectAll('w')
    .select([
      'ct.id as current_task_id',
      'ct.job_id as current_task_job_id',
      'ct.name as current_task_name',
    ]);
}

/** One worker with its current task, or undefined. */
export function findWorkerWithTask(
  db: Executor,
  workerId: string,
): Promise<WorkerWithTaskRow | undefined> {
  return selectWorkersWithTask(db).where('w.id', '=', workerId).executeTakeFirst();
}

/** One worker row, or undefined. */
export function findWorker(db: Executor, workerId: string): Promise<WorkerRow | undefined> {
  return db.selectFrom('workers').selectAll().where('id', '=', workerId).executeTakeFirst();
}

/** A worker's sleep schedule, or undefined. */
export function findSleepSchedule(
  db: Executor,
  workerId: string,
): Promise<SleepScheduleRow | undefined> {
  return db
    .selectFrom('sleep_schedules')
    .selectAll()
    .where('worker_id', '=', workerId)
    .executeTakeFirst();
}

/** The active tasks of a worker with their job's status, oldest first. */
export function findActiveTasksOfWorker(db: Executor, workerId: string) {
  return db
    .selectFrom('tasks as t')
    .innerJoin('jobs as j', 'j.id', 't.job_id')
    .select(['t.id', 't.job_id', 't.name', 'j.status as job_status'])
    .where('t.worker_id', '=', workerId)
    .where('t.status', '=', 'active')
    .orderBy('t.started_at')
    .execute();
}

/**
 * How many workers could still run a task of `taskType` in `jobId`, apart from those listed in
 * the task's failures: signed on (awake, asleep, starting or testing), supporting the type, and
 * not blocklisted for the job and type. Offline and error workers do not count (Flamenco counted
 * every worker, so a farm with only dead workers kept retrying forever).
 */
export async function countCapableWorkers(
  db: Executor,
  args: { jobId: string; taskId: string; taskType: string },
): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from workers w
    where w.status in ('awake', 'asleep', 'starting', 'testing')
      and ${args.taskType} = any(w.task_types)
      and not exists (
        select 1 from job_blocklist b
        where b.job_id = ${args.jobId} and b.worker_id = w.id and b.task_type = ${args.taskType}
          and (b.expires_at is null or b.expires_at > now()))
      and not exists (
        select 1 from task_failures f where f.task_id = ${args.taskId} and f.worker_id = w.id)`.execute(
    db,
  );
  return rows[0]?.n ?? 0;
}

/** Touches `last_seen_at`, at most every few seconds per worker (it is a write per request). */
export async function touchWorkerSeen(db: Executor, workerId: string): Promise<void> {
  await sql`
    update workers set last_seen_at = now()
    where id = ${workerId}
      and (last_seen_at is null or last_seen_at < now() - interval '5 seconds')`.execute(db);
}
