import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, JobStatusValue, TaskStatusValue, WorkerStatusValue } from '../../src/db';

// Small builders for scheduler and worker tests: rows as the jobs side stores them (counters
// included), without going through submission.

export interface SeedJob {
  name?: string;
  projectId?: string;
  priority?: number;
  status?: JobStatusValue;
  requiredTags?: string[];
  maxWorkers?: number | null;
  notBefore?: Date | null;
  createdAt?: Date;
  maxTaskFailures?: number;
  blocklistThreshold?: number;
  failureThresholdPercent?: number;
  tasks?: SeedTask[];
}

export interface SeedTask {
  name?: string;
  type?: string;
  priority?: number;
  status?: TaskStatusValue;
  unmetDependencies?: number;
  workerId?: string | null;
  commands?: unknown[];
}

const COUNTER = {
  queued: 'tasks_queued',
  active: 'tasks_active',
  completed: 'tasks_completed',
  'soft-failed': 'tasks_soft_failed',
  failed: 'tasks_failed',
  canceled: 'tasks_canceled',
  paused: 'tasks_paused',
} as const;

/** The id of the `default` project. */
export async function defaultProjectId(db: Kysely<Database>): Promise<string> {
  const row = await db
    .selectFrom('projects')
    .select('id')
    .where('name', '=', 'default')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function createProject(db: Kysely<Database>, name: string): Promise<string> {
  const row = await db
    .insertInto('projects')
    .values({ name })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Inserts a job and its tasks (index = position); returns the job id and the task ids. */
export async function seedJob(
  db: Kysely<Database>,
  job: SeedJob = {},
): Promise<{ jobId: string; taskIds: string[] }> {
  const tasks = job.tasks ?? [{}];
  const counters: Record<string, number> = {};
  for (const task of tasks) {
    const column = COUNTER[task.status ?? 'queued'];
    counters[column] = (counters[column] ?? 0) + 1;
  }
  const inserted = await db
    .insertInto('jobs')
    .values({
      name: job.name ?? 'job',
      type: 'echo-sleep-test',
      project_id: job.projectId ?? (await defaultProjectId(db)),
      priority: job.priority ?? 50,
      status: job.status ?? 'queued',
      required_tags: job.requiredTags ?? [],
      max_workers: job.maxWorkers ?? null,
      not_before: job.notBefore ?? null,
      ...(job.createdAt ? { created_at: job.createdAt } : {}),
      ...(job.maxTaskFailures ? { max_task_failures: job.maxTaskFailures } : {}),
      ...(job.blocklistThreshold ? { blocklist_threshold: job.blocklistThreshold } : {}),
      ...(job.failureThresholdPercent !== undefined
        ? { failure_threshold_percent: job.failureThresholdPercent }
        : {}),
      tasks_total: tasks.length,
      ...counters,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const rows = await db
    .insertInto('tasks')
    .values(
      tasks.map((task, idx) => ({
        job_id: inserted.id,
        idx,
        name: task.name ?? `task ${idx}`,
        type: task.type ?? 'misc',
        priority: task.priority ?? 50,
        status: task.status ?? 'queued',
        unmet_dependencies: task.unmetDependencies ?? 0,
        worker_id: task.workerId ?? null,
        commands: JSON.stringify(
          task.commands ?? [{ name: 'echo', parameters: { message: 'hi' } }],
        ),
      })),
    )
    .returning(['id', 'idx'])
    .execute();
  rows.sort((a, b) => a.idx - b.idx);
  return { jobId: inserted.id, taskIds: rows.map((row) => row.id) };
}

export interface SeedWorker {
  name?: string;
  status?: WorkerStatusValue;
  taskTypes?: string[];
  tags?: string[];
  platform?: string;
  statusRequested?: string | null;
  lazy?: boolean;
}

/** Inserts a worker (awake, running `misc` and `blender` by default); returns its id and token. */
export async function seedWorker(
  db: Kysely<Database>,
  worker: SeedWorker = {},
): Promise<{ workerId: string; token: string }> {
  const token = randomBytes(32).toString('base64url');
  const row = await db
    .insertInto('workers')
    .values({
      name: worker.name ?? 'worker',
      token_hash: createHash('sha256').update(token).digest('hex'),
      status: worker.status ?? 'awake',
      task_types: worker.taskTypes ?? ['misc', 'blender'],
      tags: worker.tags ?? [],
      platform: worker.platform ?? 'linux',
      status_requested: worker.statusRequested ?? null,
      status_requested_lazy: worker.lazy ?? false,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { workerId: row.id, token };
}

export async function taskRow(db: Kysely<Database>, taskId: string) {
  return db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
}

export async function jobRow(db: Kysely<Database>, jobId: string) {
  return db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow();
}

/** Counts tasks by status from the rows, to compare with the job's counters. */
export async function countedByStatus(db: Kysely<Database>, jobId: string) {
  const { rows } = await sql<{ status: TaskStatusValue; n: number }>`
    select status, count(*)::int as n from tasks where job_id = ${jobId} group by status`.execute(
    db,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Partial<
    Record<TaskStatusValue, number>
  >;
}

/** Asserts-friendly view of a job's counters (only non-zero ones). */
export async function jobCounters(db: Kysely<Database>, jobId: string) {
  const job = await jobRow(db, jobId);
  const out: Partial<Record<TaskStatusValue, number>> = {};
  for (const [status, column] of Object.entries(COUNTER) as [TaskStatusValue, keyof typeof job][]) {
    const value = job[column] as number;
    if (value !== 0) out[status] = value;
  }
  return out;
}
