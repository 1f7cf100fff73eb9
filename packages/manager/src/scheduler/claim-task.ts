import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { JobStatusValue, TaskStatusValue, Database, WorkerStatusValue } from '../db';
import { preparedMarker } from '../db/prepared-statements';

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

/**
 * How many statements in a row may grant nothing before the workers still waiting are told there
 * is no work. A batch whose workers all chose one small job (ten tasks, a hundred workers) gets
 * that job's tasks, then runs again for the next job, as long as each statement grants something:
 * a fixed small number of attempts left most of such a batch without work while work was queued.
 */
const MAX_FRUITLESS_CLAIM_ATTEMPTS = 3;
/** An upper bound on the statements of one batch, whatever happens. */
const MAX_CLAIM_ATTEMPTS = 64;

/** One worker's claim in a batch. */
export interface ClaimRequest {
  workerId: string;
  options?: ClaimOptions;
}

// Eligibility of task `t` for the claiming worker `w` (a row of the `w` CTE): runnable,
// dependencies done, a task type the worker runs, never failed by this worker, the worker not
// blocklisted for (job, type). The first three conditions match `tasks_claim_idx`'s predicate,
// so the planner can use it. The failure and blocklist probes run only for a worker that has
// such rows at all (`w.has_failures`, `w.has_blocks`): almost none has, and the probes were
// most of the statement's index scans (1.2 million in a 30 s dispatch bench).
const ELIGIBLE_TASK = sql`
  t.status in ('queued', 'soft-failed')
  and t.unmet_dependencies = 0
  and t.type = any(w.task_types::text[])
  and (not w.has_failures or not exists (
    select 1 from task_failures f where f.task_id = t.id and f.worker_id = w.id))
  and (not w.has_blocks or not exists (
    select 1 from job_blocklist b
    where b.job_id = t.job_id and b.worker_id = w.id and b.task_type = t.type
      and (b.expires_at is null or b.expires_at > now())))`;

/** One row of the claim statement: a worker's state, and its task when one was claimed. */
export interface ClaimRow {
  worker_id: string;
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
  const [result] = await claimTasks(db, [{ workerId, options }]);
  return result!;
}

/**
 * Claims for many workers in one statement (`claimTask`'s rules, each worker judged alone), so
 * a job's row is locked once for all of them and the statement is planned once. Answers one
 * result per request, in order. A worker whose job's last tasks went to another worker of the
 * batch (or to another replica) is tried again, with the others that lost, in a fresh statement.
 */
export async function claimTasks(
  db: Kysely<Database>,
  requests: readonly ClaimRequest[],
): Promise<ClaimResult[]> {
  const results = new Array<ClaimResult | undefined>(requests.length);
  let open = requests.map((_, index) => index);
  let fruitless = 0;
  for (let attempt = 1; open.length > 0; attempt++) {
    const lastChance =
      attempt >= MAX_CLAIM_ATTEMPTS || fruitless + 1 >= MAX_FRUITLESS_CLAIM_ATTEMPTS;
    let granted = 0;
    const rows = await runClaimStatement(
      db,
      open.map((index) => requests[index]!),
    );
    const retry: number[] = [];
    open.forEach((index, position) => {
      const row = rows[position];
      if (!row) {
        results[index] = { worker: null, task: null, reclaimed: false };
        return;
      }
      const worker: ClaimingWorkerState = {
        status: row.status,
        statusRequested: row.status_requested,
        statusRequestedLazy: row.status_requested_lazy,
        platform: row.platform,
      };
      if (row.task_id !== null) {
        results[index] = { worker, task: toClaimedTask(row), reclaimed: !!row.reclaimed };
        granted++;
      } else if (row.best_job_id !== null && !lastChance) {
        // A job had work in the statement's snapshot, but by the time its lock was ours others
        // had taken its last eligible tasks or filled its max_workers: look again.
        retry.push(index);
      } else {
        results[index] = { worker, task: null, reclaimed: false };
      }
    });
    fruitless = granted > 0 ? 0 : fruitless + 1;
    open = retry;
  }
  return results as ClaimResult[];
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

/** Runs the statement; answers each request's row in request order (undefined: no such worker). */
async function runClaimStatement(
  db: Kysely<Database>,
  requests: readonly ClaimRequest[],
): Promise<(ClaimRow | undefined)[]> {
  const { rows } = await claimBatchStatement(requests).execute(db);
  const byWorker = new Map(rows.map((row) => [row.worker_id, row]));
  return requests.map((request) => byWorker.get(request.workerId));
}

/** The claim statement for one worker (exported so tests and benchmarks can EXPLAIN it). */
export function claimStatement(workerId: string, options: ClaimOptions = {}): RawBuilder<ClaimRow> {
  return claimBatchStatement([{ workerId, options }]);
}

/** The claim statement for a batch of workers (each worker at most once). */
export function claimBatchStatement(requests: readonly ClaimRequest[]): RawBuilder<ClaimRow> {
  const ids = requests.map((request) => request.workerId);
  const logBytes = requests.map((request) => request.options?.logBytes ?? 0);
  // Locking argument. The manager's lock order is "a job's row, then its tasks", and several
  // jobs in id order (services/task-transitions.ts, the completion batch); this statement keeps
  // it, so a claim never deadlocks with a job action or a worker's report:
  // 1. `best` orders, for each worker, the runnable jobs it may take (jobs only, through
  //    jobs_runnable_idx), probing each job's first task eligible for that worker, and keeps
  //    the first job that has one. Nothing is locked yet; this is the statement's snapshot.
  // 2. `locked_jobs` locks those jobs' rows in id order (FOR NO KEY UPDATE: waits for other
  //    claims of the same job, which must update its counters anyway, and for job actions).
  //    Read committed re-checks its conditions on the newest row version, so a job canceled or
  //    filled up to max_workers meanwhile is not claimed from.
  // 3. `pool` reads, per locked job and per class of workers (the same task types), as many of
  //    its best runnable tasks as the class has workers, FOR UPDATE SKIP LOCKED, and
  //    `candidates` gives the k-th worker of the class its k-th task there that it may run.
  //    Workers of different classes could still meet on one task: `winners` keeps it for one of
  //    them, and `granted` keeps at most the job's free max_workers slots (counted on the locked
  //    row), so max_workers holds exactly under any concurrency.
  // 4. `assigned` and `bumped` update the locked rows; counters move in the same statement.
  // The workers' own rows (`seen`, at most every 5 s) are written before the job locks; no
  // transaction in the manager writes a worker row while it holds a job lock, so that order is
  // safe too.
  // A worker that chose a job but got no task (someone else took its last tasks) has its
  // `best_job_id` set and no task, and `claimTasks` runs it again in a fresh statement.
  // Project fairness reads the jobs' `tasks_active` counters, never counts task rows.
  // The claim commits asynchronously (`synchronous_commit` off for this statement's own
  // transaction): the job row locks are then held for the statement, not also for a WAL flush,
  // which was what every claim of a job queued behind. A claim lost in a database crash only
  // hands the task out again: its worker's next report is refused (409) and it stops the task,
  // as after a worker timeout (docs/decisions/0007).
  return sql<ClaimRow>`${sql.raw(preparedMarker('claim-batch'))}
    with w as materialized (
      select wk.id, r.ord, r.log_bytes, wk.status, wk.status_requested,
        wk.status_requested_lazy, wk.platform, wk.task_types, wk.tags,
        (wk.status = 'awake' and (wk.status_requested is null or wk.status_requested = 'awake'))
          as may_claim,
        exists (select 1 from task_failures f where f.worker_id = wk.id) as has_failures,
        exists (select 1 from job_blocklist b where b.worker_id = wk.id) as has_blocks,
        set_config('synchronous_commit', 'off', true) as async_commit
      from unnest(${ids}::uuid[], ${logBytes}::bigint[]) with ordinality as r(id, log_bytes, ord)
      join workers wk on wk.id = r.id
    ),
    seen as (
      update workers set last_seen_at = now()
      where id = any(${ids}::uuid[])
        and (last_seen_at is null or last_seen_at < now() - interval '5 seconds')
    ),
    own as materialized (
      select distinct on (t.worker_id) t.worker_id, t.id
      from tasks t join jobs j on j.id = t.job_id join w on w.id = t.worker_id
      where t.worker_id = any(${ids}::uuid[]) and t.status = 'active'
        and j.status in ('queued', 'active') and w.may_claim
      order by t.worker_id, t.started_at
    ),
    -- Materialized: computed once per statement. Inlined, the planner recomputed it for every
    -- candidate job, which made a claim quadratic in the number of runnable jobs (700 jobs:
    -- 207 of 212 ms, bench/tools/explain-claim.js).
    load as materialized (
      select project_id, sum(tasks_active) as running, min(created_at) as oldest
      from jobs where status in ('queued', 'active')
      group by project_id
    ),
    -- Fairness inside one batch: all its workers read the same counters, so "the project with
    -- the fewest running tasks" would send every one of them to the same project. The k-th
    -- worker of the batch prefers the project that k claims made one by one would have reached
    -- (water-filling: project p's i-th slot is worth running + i), among equal job priorities.
    slots as materialized (
      select s.project_id, row_number() over (order by s.v, s.oldest, s.project_id) as k
      from (
        select l.project_id, l.oldest, l.running + g.i as v
        from load l cross join generate_series(1, ${ids.length}) as g(i)
      ) s
    ),
    -- Spreading one batch over jobs: the workers that prefer one project see the same ordered
    -- list of jobs, so without this they would all choose its first job, and when that job has
    -- fewer runnable tasks than they are, the rest would run the statement again (10,000 jobs of
    -- 10 tasks: most of a batch). The i-th of them takes the first job whose runnable tasks,
    -- counted along the list from its start (the jobs' counters), reach i.
    placed as materialized (
      select w.*, sl.project_id as preferred_project,
        row_number() over (partition by sl.project_id order by w.ord) as place
      from w left join slots sl on sl.k = w.ord
      where w.may_claim and not exists (select 1 from own o where o.worker_id = w.id)
    ),
    runnable as materialized (
      select j.id, j.project_id, j.priority, j.created_at, j.required_tags, l.running,
        greatest(1, least(j.tasks_queued + j.tasks_soft_failed,
          coalesce(j.max_workers - j.tasks_active, j.tasks_queued + j.tasks_soft_failed))) as room
      from jobs j join load l on l.project_id = j.project_id
      where j.status in ('queued', 'active')
        and (j.not_before is null or j.not_before <= now())
        and (j.max_workers is null or j.tasks_active < j.max_workers)
    ),
    -- The job list of each preferred project, sorted once per statement (not once per worker),
    -- cut at the batch's size: every job offers at least one slot, so the n-th worker's job is
    -- among the first n.
    orders as materialized (
      select o.preferred_project, o.job_id, o.required_tags, o.position, o.reach from (
        select p.preferred_project, r.id as job_id, r.required_tags,
          row_number() over ranking as position,
          sum(r.room) over ranking as reach
        from (select distinct preferred_project from placed) p cross join runnable r
        window ranking as (
          partition by p.preferred_project
          order by r.priority desc, (r.project_id is not distinct from p.preferred_project) desc,
            r.running, r.created_at, r.id
          rows between unbounded preceding and current row)
      ) o
      where o.position <= ${ids.length}
    ),
    best as materialized (
      select w.id as worker_id, w.ord, coalesce(spread.job_id, anywhere.id) as job_id
      from placed w
      left join lateral (
        select o.job_id from orders o
        -- A lateral probe, not EXISTS: the planner may turn an EXISTS into a semi-join that
        -- scans the whole claim index once per job (seconds per claim while the table's
        -- statistics still describe it empty); a LIMIT inside LATERAL keeps it one index probe.
        cross join lateral (
          select 1 from tasks t
          where t.job_id = o.job_id and ${ELIGIBLE_TASK}
          order by t.priority desc, t.idx
          limit 1
        ) x
        where o.preferred_project is not distinct from w.preferred_project
          and o.reach >= w.place and o.required_tags <@ w.tags
        order by o.position
        limit 1
      ) spread on true
      -- A worker whose share of the list has nothing it may run (other task types or tags, or
      -- more workers than runnable tasks) looks through every job, as one claim alone would.
      left join lateral (
        select r.id from (
          select j.id, j.priority, j.running, j.created_at,
            (j.project_id is not distinct from w.preferred_project) as preferred
          from runnable j
          where spread.job_id is null and j.required_tags <@ w.tags
        ) r
        cross join lateral (
          select 1 from tasks t
          where t.job_id = r.id and ${ELIGIBLE_TASK}
          order by t.priority desc, t.idx
          limit 1
        ) x
        order by r.priority desc, r.preferred desc, r.running, r.created_at, r.id
        limit 1
      ) anywhere on true
      where spread.job_id is not null or anywhere.id is not null
    ),
    locked_jobs as materialized (
      select j.id, j.status, j.max_workers, j.tasks_active from jobs j
      where j.id in (select job_id from best)
        and j.status in ('queued', 'active')
        and (j.max_workers is null or j.tasks_active < j.max_workers)
      order by j.id
      for no key update
    ),
    -- Workers that chose one job and run the same task types read one list of its best tasks
    -- (\`pool\`): one index scan and one row lock per task granted, where a scan per worker
    -- (the k-th worker skipping k-1 rows) scanned and locked k(k+1)/2 rows for k workers.
    ranked as materialized (
      select b.worker_id, b.job_id, w.task_types, w.has_failures, w.has_blocks,
        row_number() over (partition by b.job_id, w.task_types order by b.ord) as k
      from best b join w on w.id = b.worker_id
    ),
    classes as (
      select job_id, task_types, count(*) as n,
        bool_or(has_failures or has_blocks) as picky
      from ranked group by job_id, task_types
    ),
    -- FOR UPDATE SKIP LOCKED: rows that others claimed since our snapshot were committed before
    -- we got the job lock, so the re-check skips them (no longer queued) and the scan moves on.
    -- A class with workers that failed or are blocklisted for some tasks reads further, so that
    -- each still finds its k-th eligible task.
    pool as materialized (
      select y.job_id, y.task_types, y.id as task_id, y.status as previous_status, y.type,
        row_number() over (partition by y.job_id, y.task_types order by y.priority desc, y.idx)
          as rank
      from (
        select c.job_id, c.task_types, x.id, x.status, x.type, x.priority, x.idx
        from locked_jobs lj
        join classes c on c.job_id = lj.id
        cross join lateral (
          select t.id, t.status, t.type, t.priority, t.idx from tasks t
          where t.job_id = lj.id and t.status in ('queued', 'soft-failed')
            and t.unmet_dependencies = 0 and t.type = any(c.task_types::text[])
          order by t.priority desc, t.idx
          limit c.n + case when c.picky then 32 else 0 end
          for update skip locked
        ) x
      ) y
    ),
    -- The k-th worker of a class gets the k-th task of the pool that it may run: for a worker
    -- without failures or blocklist entries that is simply the pool's k-th task. Workers of
    -- different classes may meet on one task: \`winners\` keeps it for one of them.
    candidates as materialized (
      select r.worker_id, r.job_id, r.k, p.task_id, p.previous_status
      from ranked r
      join pool p on p.job_id = r.job_id and p.task_types = r.task_types and p.rank = r.k
      where not (r.has_failures or r.has_blocks)
      union all
      select e.worker_id, e.job_id, e.k, e.task_id, e.previous_status from (
        select r.worker_id, r.job_id, r.k, p.task_id, p.previous_status,
          row_number() over (partition by r.worker_id order by p.rank) as m
        from ranked r
        join pool p on p.job_id = r.job_id and p.task_types = r.task_types
        where (r.has_failures or r.has_blocks)
          and not exists (
            select 1 from task_failures f where f.task_id = p.task_id and f.worker_id = r.worker_id)
          and not exists (
            select 1 from job_blocklist bl
            where bl.job_id = r.job_id and bl.worker_id = r.worker_id and bl.task_type = p.type
              and (bl.expires_at is null or bl.expires_at > now()))
      ) e
      where e.m = e.k
    ),
    winners as (
      select distinct on (c.task_id) c.worker_id, c.job_id, c.task_id, c.previous_status, c.k
      from candidates c
      order by c.task_id, c.k
    ),
    granted as (
      select g.worker_id, g.job_id, g.task_id, g.previous_status from (
        select wi.*, row_number() over (partition by wi.job_id order by wi.k) as n
        from winners wi
      ) g
      join locked_jobs lj on lj.id = g.job_id
      where lj.max_workers is null or g.n <= lj.max_workers - lj.tasks_active
    ),
    assigned as (
      update tasks t set
        status = 'active', worker_id = g.worker_id, started_at = now(), last_touched_at = now(),
        finished_at = null, updated_at = now(),
        log_size = t.log_size + w.log_bytes
      from granted g join w on w.id = g.worker_id
      where t.id = g.task_id
      returning t.id, t.job_id, g.worker_id, g.previous_status
    ),
    bumped as (
      update jobs j set
        tasks_active = j.tasks_active + a.n,
        tasks_queued = j.tasks_queued - a.queued,
        tasks_soft_failed = j.tasks_soft_failed - a.soft_failed,
        status = case when j.status = 'queued' then 'active' else j.status end,
        updated_at = now()
      from (
        select job_id, count(*)::int as n,
          count(*) filter (where previous_status = 'queued')::int as queued,
          count(*) filter (where previous_status = 'soft-failed')::int as soft_failed
        from assigned group by job_id
      ) a
      where j.id = a.job_id
      returning j.id, j.status
    ),
    chosen as (
      select o.worker_id, o.id, true as reclaimed, 'active' as previous_status,
        null as previous_job_status, null as job_status
      from own o
      union all
      select a.worker_id, a.id, false, a.previous_status, l.status, b.status
      from assigned a join bumped b on b.id = a.job_id join locked_jobs l on l.id = a.job_id
    )
    select w.id as worker_id, w.status, w.status_requested, w.status_requested_lazy, w.platform,
      (select bb.job_id from best bb where bb.worker_id = w.id) as best_job_id,
      c.id as task_id, c.reclaimed, t.job_id, j.name as job_name, j.priority as job_priority,
      j.type as job_type, j.project_id, t.name, t.type, t.idx, t.priority, t.commands, t.steps,
      c.previous_status,
      coalesce(c.previous_job_status, j.status) as previous_job_status,
      coalesce(c.job_status, j.status) as job_status
    from w
    left join chosen c on c.worker_id = w.id
    left join tasks t on t.id = c.id
    left join jobs j on j.id = t.job_id
    order by w.ord`;
}
