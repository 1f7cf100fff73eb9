import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { JobStatusValue, TaskStatusValue, Database, WorkerStatusValue } from '../db';

/** The claiming worker as the claim statement read it (the same statement, so never stale). */
export interface ClaimingWorkerState {
  status: WorkerStatusValue;
  statusRequested: string | null;
  statusRequestedLazy: boolean;
  platform: string;
}

/** A task the claim gave to the worker (or gave back to it), with what an `AssignedTask` needs. */
export interface ClaimedTask {
  id: string;
  jobId: string;
  jobName: string;
  jobPriority: number;
  jobType: string;
  projectId: string;
  name: string;
  type: string;
  index: number;
  priority: number;
  commands: unknown[];
  steps: number | null;
  /** The task's status before this claim (`active` when the worker got its own task back). */
  previousStatus: TaskStatusValue;
  /** The job's status before and after the claim (a queued job becomes active). */
  previousJobStatus: JobStatusValue;
  jobStatus: JobStatusValue;
}

export interface ClaimResult {
  /** null when the worker does not exist (deleted while it still had a token cached). */
  worker: ClaimingWorkerState | null;
  task: ClaimedTask | null;
  /** True when `task` is the worker's own active task, handed back (the worker restarted). */
  reclaimed: boolean;
}

export interface ClaimOptions {
  /** Bytes the caller appends to a newly assigned task's log ("assigned to ..."), counted here. */
  logBytes?: number;
}

/** How often a claim that lost a race for a job's last tasks is tried again at once. */
const MAX_CLAIM_ATTEMPTS = 3;

// Eligibility of task `t` for the claiming worker `w`: runnable, dependencies done, a task type
// the worker runs, never failed by this worker, the worker not blocklisted for (job, type).
// The first three conditions match `tasks_claim_idx`'s predicate, so the planner can use it.
const ELIGIBLE_TASK = sql`
  t.status in ('queued', 'soft-failed')
  and t.unmet_dependencies = 0
  and t.type = any((select task_types from w)::text[])
  and not exists (
    select 1 from task_failures f where f.task_id = t.id and f.worker_id = (select id from w))
  and not exists (
    select 1 from job_blocklist b
    where b.job_id = t.job_id and b.worker_id = (select id from w) and b.task_type = t.type
      and (b.expires_at is null or b.expires_at > now()))`;

/** One row of the claim statement: the worker's state, and the task when one was claimed. */
export interface ClaimRow {
  status: WorkerStatusValue;
  status_requested: string | null;
  status_requested_lazy: boolean;
  platform: string;
  best_job_id: string | null;
  task_id: string | null;
  reclaimed: boolean | null;
  job_id: string | null;
  job_name: string | null;
  job_priority: number | null;
  job_type: string | null;
  project_id: string | null;
  name: string | null;
  type: string | null;
  idx: number | null;
  priority: number | null;
  commands: unknown[] | null;
  steps: number | null;
  previous_status: TaskStatusValue | null;
  previous_job_status: JobStatusValue | null;
  job_status: JobStatusValue | null;
}

/**
 * Gives the worker its best eligible task, or its own active task back, in one SQL statement
 * (DESIGN.md, Scheduling rules). Order: job priority (high first), then the project with the
 * fewest running tasks among equal priorities, then the oldest job, then task priority (high
 * first), then task index. The statement also checks that the worker may claim (awake, nothing
 * but a wake request pending) and touches its `last_seen_at` (at most every 5 s).
 *
 * Resolves `task: null` when there is no work for the worker, or when it may not claim (the
 * caller answers 409/423 from `worker`).
 */
export async function claimTask(
  db: Kysely<Database>,
  workerId: string,
  options: ClaimOptions = {},
): Promise<ClaimResult> {
  for (let attempt = 1; ; attempt++) {
    const row = await runClaimStatement(db, workerId, options);
    if (!row) return { worker: null, task: null, reclaimed: false };
    const worker: ClaimingWorkerState = {
      status: row.status,
      statusRequested: row.status_requested,
      statusRequestedLazy: row.status_requested_lazy,
      platform: row.platform,
    };
    if (row.task_id !== null)
      return { worker, task: toClaimedTask(row), reclaimed: !!row.reclaimed };
    // A job had work in the statement's snapshot, but by the time its lock was ours others had
    // taken its last eligible tasks or filled its max_workers: look again with a fresh snapshot.
    if (row.best_job_id === null || attempt >= MAX_CLAIM_ATTEMPTS) {
      return { worker, task: null, reclaimed: false };
    }
  }
}

function toClaimedTask(row: ClaimRow): ClaimedTask {
  return {
    id: row.task_id as string,
    jobId: row.job_id as string,
    jobName: row.job_name as string,
    jobPriority: row.job_priority as number,
    jobType: row.job_type as string,
    projectId: row.project_id as string,
    name: row.name as string,
    type: row.type as string,
    index: row.idx as number,
    priority: row.priority as number,
    commands: row.commands ?? [],
    steps: row.steps,
    previousStatus: row.previous_status as TaskStatusValue,
    previousJobStatus: row.previous_job_status as JobStatusValue,
    jobStatus: row.job_status as JobStatusValue,
  };
}

async function runClaimStatement(
  db: Kysely<Database>,
  workerId: string,
  options: ClaimOptions,
): Promise<ClaimRow | undefined> {
  const { rows } = await claimStatement(workerId, options).execute(db);
  return rows[0];
}

/** The claim statement itself (exported so tests and benchmarks can EXPLAIN it). */
export function claimStatement(workerId: string, options: ClaimOptions = {}): RawBuilder<ClaimRow> {
  // Locking argument. The manager's lock order is "a job's row, then its tasks"
  // (services/task-transitions.ts); this statement keeps it, so a claim never deadlocks with a
  // job action or a worker's report:
  // 1. `best` orders the runnable jobs the worker may take (a few rows: jobs only, through
  //    jobs_runnable_idx), and `best` walks them in that order, probing each job's first
  //    eligible task on tasks_claim_idx, and stops at the first job that has one. Nothing is
  //    locked yet; this is the statement's snapshot.
  // 2. `locked_job` locks that job's row (FOR NO KEY UPDATE: waits for other claims of the same
  //    job, which must update its counters anyway, and for job actions). Read committed re-checks
  //    its conditions on the newest row version, so a job canceled or filled up to max_workers
  //    meanwhile is not claimed from, and max_workers holds exactly under any concurrency.
  // 3. `picked` runs only after that lock (its job id is an InitPlan) and takes the job's best
  //    runnable task FOR UPDATE SKIP LOCKED: rows that others claimed since our snapshot were
  //    committed before we got the job lock, so the re-check skips them (no longer queued) and
  //    the scan moves on to the next task; a task is thus given to one worker only.
  // 4. `assigned` and `bumped` update the two locked rows; counters move in the same statement.
  // The worker's own row (`seen`, at most every 5 s) is written before the job lock; no
  // transaction in the manager writes a worker row while it holds a job lock, so that order is
  // safe too.
  // If step 3 finds nothing (others took the job's last tasks), the row says so through
  // `best_job_id` and `claimTask` runs the statement again with a fresh snapshot.
  // Project fairness reads the jobs' `tasks_active` counters, never counts task rows.
  // The claim commits asynchronously (`synchronous_commit` off for this statement's own
  // transaction): the job row lock is then held for the statement, not also for a WAL flush,
  // which was what every claim of a job queued behind. A claim lost in a database crash only
  // hands the task out again: its worker's next report is refused (409) and it stops the task,
  // as after a worker timeout (docs/decisions/0007).
  return sql<ClaimRow>`
    with w as (
      select id, status, status_requested, status_requested_lazy, platform, task_types, tags,
        (status = 'awake' and (status_requested is null or status_requested = 'awake'))
          as may_claim,
        set_config('synchronous_commit', 'off', true) as async_commit
      from workers where id = ${workerId}
    ),
    seen as (
      update workers set last_seen_at = now()
      where id = ${workerId}
        and (last_seen_at is null or last_seen_at < now() - interval '5 seconds')
    ),
    own as (
      select t.id from tasks t join jobs j on j.id = t.job_id
      where t.worker_id = ${workerId} and t.status = 'active' and j.status in ('queued', 'active')
        and (select may_claim from w)
      order by t.started_at
      limit 1
    ),
    -- Materialized: computed once per claim. Inlined, the planner recomputed it for every
    -- candidate job, which made a claim quadratic in the number of runnable jobs (700 jobs:
    -- 207 of 212 ms, bench/tools/explain-claim.js).
    load as materialized (
      select project_id, sum(tasks_active) as running
      from jobs where status in ('queued', 'active')
      group by project_id
    ),
    best as (
      select r.id from (
        select j.id, j.priority, l.running, j.created_at
        from jobs j join load l on l.project_id = j.project_id
        where j.status in ('queued', 'active')
          and (select may_claim from w) and not exists (select 1 from own)
          and (j.not_before is null or j.not_before <= now())
          and (j.max_workers is null or j.tasks_active < j.max_workers)
          and j.required_tags <@ (select tags from w)
        order by j.priority desc, l.running, j.created_at, j.id
      ) r
      cross join lateral (
        select 1 from tasks t
        where t.job_id = r.id and ${ELIGIBLE_TASK}
        order by t.priority desc, t.idx
        limit 1
      ) x
      order by r.priority desc, r.running, r.created_at, r.id
      limit 1
    ),
    locked_job as (
      select j.id, j.status from jobs j
      where j.id = (select id from best)
        and j.status in ('queued', 'active')
        and (j.max_workers is null or j.tasks_active < j.max_workers)
      for no key update
    ),
    picked as (
      select t.id, t.status from tasks t
      where t.job_id = (select id from locked_job) and ${ELIGIBLE_TASK}
      order by t.priority desc, t.idx
      limit 1
      for update skip locked
    ),
    assigned as (
      update tasks t set
        status = 'active', worker_id = ${workerId}, started_at = now(), last_touched_at = now(),
        finished_at = null, updated_at = now(),
        log_size = t.log_size + ${options.logBytes ?? 0}::bigint
      from picked p
      where t.id = p.id
      returning t.id, t.job_id, p.status as previous_status
    ),
    bumped as (
      update jobs j set
        tasks_active = j.tasks_active + 1,
        tasks_queued = j.tasks_queued - (a.previous_status = 'queued')::int,
        tasks_soft_failed = j.tasks_soft_failed - (a.previous_status = 'soft-failed')::int,
        status = case when j.status = 'queued' then 'active' else j.status end,
        updated_at = now()
      from assigned a
      where j.id = a.job_id
      returning j.id, j.status
    ),
    chosen as (
      select o.id, true as reclaimed, 'active' as previous_status, null as previous_job_status,
        null as job_status
      from own o
      union all
      select a.id, false, a.previous_status, l.status, b.status
      from assigned a join bumped b on b.id = a.job_id cross join locked_job l
    )
    select w.status, w.status_requested, w.status_requested_lazy, w.platform,
      (select id from best) as best_job_id,
      c.id as task_id, c.reclaimed, t.job_id, j.name as job_name, j.priority as job_priority,
      j.type as job_type, j.project_id, t.name, t.type, t.idx, t.priority, t.commands, t.steps,
      c.previous_status,
      coalesce(c.previous_job_status, j.status) as previous_job_status,
      coalesce(c.job_status, j.status) as job_status
    from w
    left join chosen c on true
    left join tasks t on t.id = c.id
    left join jobs j on j.id = t.job_id`;
}
