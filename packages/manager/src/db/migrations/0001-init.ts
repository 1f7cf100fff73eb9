import { sql, type Kysely, type RawBuilder } from 'kysely';

// The whole schema of the manager issue and the failure-handling issue (issues 3 and 8), as raw
// DDL so reviewers read SQL. One statement per entry: PGlite's extended protocol runs one
// statement per query. Forward-only: never edit this file once released, add 0002-... instead.

const JOB_STATUSES = sql.raw(
  `'queued', 'active', 'pause-requested', 'paused', 'cancel-requested', 'canceled', 'completed', ` +
    `'failed', 'requeueing', 'archived'`,
);
const TASK_STATUSES = sql.raw(
  `'queued', 'active', 'completed', 'soft-failed', 'failed', 'canceled', 'paused'`,
);
const WORKER_STATUSES = sql.raw(`'starting', 'awake', 'asleep', 'testing', 'offline', 'error'`);

const statements: RawBuilder<unknown>[] = [
  sql`
    create table projects (
      id uuid primary key default gen_random_uuid(),
      name text not null unique,
      description text not null default '',
      created_at timestamptz not null default now()
    )`,
  sql`insert into projects (name, description) values ('default', 'The default project')`,

  sql`
    create table users (
      id uuid primary key default gen_random_uuid(),
      name text not null unique,
      display_name text not null default '',
      email text,
      password_hash text,
      is_admin boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      disabled_at timestamptz
    )`,

  sql`
    create table project_members (
      project_id uuid not null references projects (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      role text not null check (role in ('viewer', 'artist', 'manager', 'admin')),
      created_at timestamptz not null default now(),
      primary key (project_id, user_id)
    )`,
  sql`create index project_members_user_idx on project_members (user_id)`,

  // token_hash is the sha256 hex of the secret: a stolen database does not yield usable tokens.
  sql`
    create table api_tokens (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null references users (id) on delete cascade,
      name text not null,
      token_hash text not null unique,
      scopes text[] not null default '{}',
      created_at timestamptz not null default now(),
      expires_at timestamptz,
      last_used_at timestamptz,
      revoked_at timestamptz
    )`,
  sql`create index api_tokens_user_idx on api_tokens (user_id)`,

  sql`
    create table workers (
      id uuid primary key default gen_random_uuid(),
      name text not null,
      token_hash text not null unique,
      platform text not null default '',
      task_types text[] not null default '{}',
      tags text[] not null default '{}',
      status text not null default 'starting' check (status in (${WORKER_STATUSES})),
      status_requested text,
      status_requested_lazy boolean not null default false,
      version text not null default '',
      address text not null default '',
      can_restart boolean not null default false,
      host_stats jsonb,
      last_seen_at timestamptz,
      signed_on_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
  sql`create index workers_name_idx on workers (name)`,
  // The worker-timeout check scans only workers that can still time out.
  sql`create index workers_last_seen_idx on workers (last_seen_at) where status <> 'offline'`,

  sql`
    create table sleep_schedules (
      worker_id uuid primary key references workers (id) on delete cascade,
      is_active boolean not null default false,
      days_of_week text[] not null default '{}',
      start_time text not null check (start_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
      end_time text not null check (end_time ~ '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'),
      time_zone text not null default 'UTC',
      next_check_at timestamptz,
      updated_at timestamptz not null default now()
    )`,
  sql`create index sleep_schedules_next_check_idx on sleep_schedules (next_check_at) where is_active`,

  // Per-status task counters live on the job and change in the same transaction as each task, so
  // progress and roll-up never count rows (docs/decisions/0003-database.md).
  sql`
    create table jobs (
      id uuid primary key default gen_random_uuid(),
      name text not null,
      type text not null,
      type_etag text not null default '',
      priority integer not null default 50,
      status text not null default 'queued' check (status in (${JOB_STATUSES})),
      activity text not null default '',
      settings jsonb not null default '{}',
      metadata jsonb not null default '{}',
      project_id uuid not null references projects (id),
      submitter_id uuid references users (id) on delete set null,
      required_tags text[] not null default '{}',
      max_workers integer check (max_workers is null or max_workers > 0),
      not_before timestamptz,
      failure_threshold_percent integer not null default 10
        check (failure_threshold_percent between 0 and 100),
      max_task_failures integer not null default 3 check (max_task_failures > 0),
      blocklist_threshold integer not null default 3 check (blocklist_threshold > 0),
      tasks_total integer not null default 0,
      tasks_queued integer not null default 0,
      tasks_active integer not null default 0,
      tasks_completed integer not null default 0,
      tasks_soft_failed integer not null default 0,
      tasks_failed integer not null default 0,
      tasks_canceled integer not null default 0,
      tasks_paused integer not null default 0,
      steps_total integer not null default 0,
      steps_done integer not null default 0,
      archived_summary jsonb,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
  // The job list sorts (newest, recently changed, priority) and filters (status, project, type).
  sql`create index jobs_created_idx on jobs (created_at desc, id desc)`,
  sql`create index jobs_updated_idx on jobs (updated_at desc, id desc)`,
  sql`create index jobs_priority_idx on jobs (priority desc, created_at, id)`,
  sql`create index jobs_status_idx on jobs (status, created_at desc)`,
  sql`create index jobs_project_idx on jobs (project_id, created_at desc)`,
  sql`create index jobs_type_idx on jobs (type)`,
  sql`create index jobs_submitter_idx on jobs (submitter_id)`,
  // The scheduler walks runnable jobs in claim order; this index holds only those.
  sql`
    create index jobs_runnable_idx on jobs (priority desc, created_at, id)
      where status in ('queued', 'active')`,

  sql`
    create table tasks (
      id uuid primary key default gen_random_uuid(),
      job_id uuid not null references jobs (id) on delete cascade,
      idx integer not null,
      name text not null,
      type text not null,
      priority integer not null default 50,
      tags text[] not null default '{}',
      status text not null default 'queued' check (status in (${TASK_STATUSES})),
      commands jsonb not null default '[]',
      unmet_dependencies integer not null default 0 check (unmet_dependencies >= 0),
      worker_id uuid references workers (id) on delete set null,
      activity text not null default '',
      progress real not null default 0,
      steps integer,
      steps_done integer not null default 0,
      failure_count integer not null default 0,
      log_size bigint not null default 0,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      last_touched_at timestamptz,
      started_at timestamptz,
      finished_at timestamptz,
      unique (job_id, idx)
    )`,
  // The claim: for one job, its best runnable task is the first entry of this small index (it
  // holds runnable tasks only, so it stays small however many tasks are done).
  sql`
    create index tasks_claim_idx on tasks (job_id, priority desc, idx)
      where status in ('queued', 'soft-failed') and unmet_dependencies = 0`,
  sql`create index tasks_worker_active_idx on tasks (worker_id) where status = 'active'`,
  // The task-timeout check: active tasks by last update.
  sql`create index tasks_touched_idx on tasks (last_touched_at) where status = 'active'`,
  sql`create index tasks_job_status_idx on tasks (job_id, status)`,

  sql`
    create table task_dependencies (
      task_id uuid not null references tasks (id) on delete cascade,
      depends_on_id uuid not null references tasks (id) on delete cascade,
      primary key (task_id, depends_on_id),
      check (task_id <> depends_on_id)
    )`,
  sql`create index task_dependencies_depends_on_idx on task_dependencies (depends_on_id)`,

  sql`
    create table task_failures (
      task_id uuid not null references tasks (id) on delete cascade,
      worker_id uuid not null references workers (id) on delete cascade,
      failed_at timestamptz not null default now(),
      reason text not null default '',
      primary key (task_id, worker_id)
    )`,
  sql`create index task_failures_worker_idx on task_failures (worker_id)`,

  sql`
    create table job_blocklist (
      job_id uuid not null references jobs (id) on delete cascade,
      worker_id uuid not null references workers (id) on delete cascade,
      task_type text not null,
      reason text not null default '',
      created_at timestamptz not null default now(),
      expires_at timestamptz,
      primary key (job_id, worker_id, task_type)
    )`,
  sql`create index job_blocklist_worker_idx on job_blocklist (worker_id)`,

  // Audit and event history. No foreign keys on purpose: events outlive deleted jobs and workers.
  sql`
    create table events (
      id bigserial primary key,
      type text not null,
      project_id uuid,
      job_id uuid,
      task_id uuid,
      worker_id uuid,
      user_id uuid,
      payload jsonb not null default '{}',
      created_at timestamptz not null default now()
    )`,
  sql`create index events_created_idx on events (created_at)`,
  sql`create index events_job_idx on events (job_id, id) where job_id is not null`,
  sql`create index events_worker_idx on events (worker_id, id) where worker_id is not null`,

  sql`
    create table last_rendered (
      job_id uuid primary key references jobs (id) on delete cascade,
      task_id uuid,
      path text not null,
      updated_at timestamptz not null default now()
    )`,

  // Single values: the registration secret's hash, the farm-wide last-rendered job, ...
  sql`
    create table farm_state (
      key text primary key,
      value jsonb not null,
      updated_at timestamptz not null default now()
    )`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}
