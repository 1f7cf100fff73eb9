import { sql, type Kysely, type RawBuilder } from 'kysely';

// Issue 10: recurring jobs (schedules and their run history) and job-on-job dependencies, which
// add the `waiting` job status. Forward-only, like every migration: never edit it once released.

const JOB_STATUSES = sql.raw(
  `'waiting', 'queued', 'active', 'pause-requested', 'paused', 'cancel-requested', 'canceled', ` +
    `'completed', 'failed', 'requeueing', 'archived'`,
);

const statements: RawBuilder<unknown>[] = [
  // 0001 named the check implicitly; Postgres calls it jobs_status_check on both backends.
  sql`alter table jobs drop constraint jobs_status_check`,
  sql`alter table jobs add constraint jobs_status_check check (status in (${JOB_STATUSES}))`,

  // One row per edge. A dependency that is deleted takes its edges along, which may release the
  // waiting job (the dependency check treats "no unfinished dependency left" as ready).
  sql`
    create table job_dependencies (
      job_id uuid not null references jobs (id) on delete cascade,
      depends_on_job_id uuid not null references jobs (id) on delete cascade,
      primary key (job_id, depends_on_job_id),
      check (job_id <> depends_on_job_id)
    )`,
  sql`create index job_dependencies_depends_on_idx on job_dependencies (depends_on_job_id)`,
  sql`create index jobs_waiting_idx on jobs (id) where status = 'waiting'`,

  sql`
    create table schedules (
      id uuid primary key default gen_random_uuid(),
      name text not null unique,
      cron text,
      interval_ms bigint check (interval_ms is null or interval_ms >= 60000),
      time_zone text not null default 'UTC',
      enabled boolean not null default true,
      template jsonb not null,
      owner_id uuid references users (id) on delete set null,
      next_run_at timestamptz,
      last_run_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check ((cron is null) <> (interval_ms is null))
    )`,
  sql`create index schedules_due_idx on schedules (next_run_at) where enabled`,

  // The unique key is what makes a run fire once: two replicas (or a retried tick) that both try
  // to claim one due moment collide here, and only the first inserts.
  sql`
    create table schedule_runs (
      id bigserial primary key,
      schedule_id uuid not null references schedules (id) on delete cascade,
      scheduled_for timestamptz not null,
      fired_at timestamptz not null default now(),
      job_id uuid,
      error text,
      unique (schedule_id, scheduled_for)
    )`,
  sql`create index schedule_runs_latest_idx on schedule_runs (schedule_id, id desc)`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}
