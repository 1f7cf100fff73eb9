import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import { JOB_STATUSES, TASK_STATUSES, WORKER_STATUSES } from '@farm/core';
import type { AuditLogTable, SessionsTable } from './auth-tables';
import type {
  FileBlobsTable,
  FileCheckoutFilesTable,
  FileCheckoutsTable,
} from './file-store-tables';
import type {
  NotificationDeliveriesTable,
  NotificationEventsTable,
  NotificationSubscriptionsTable,
} from './notification-tables';
import type { JobDependenciesTable, ScheduleRunsTable, SchedulesTable } from './schedule-tables';

// Column conventions, identical on Postgres and PGlite (tested):
// - timestamptz reads as `Date`; write a `Date` or an ISO string.
// - int8/bigint (bigserial ids, `log_size`, `count(*)`) reads as `number`.
// - jsonb reads as the parsed value; WRITE IT AS A JSON STRING (`JSON.stringify(value)`): `pg` turns a
//   JS array parameter into a Postgres array literal, which jsonb rejects.
// - text[] reads and writes as `string[]`.

/** A timestamptz column the database fills in (`default now()`), which may be set explicitly. */
export type CreatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
/** A nullable timestamptz column. */
export type NullableTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;
/** A jsonb column: read as `T`, written as a JSON string. */
export type Json<T> = ColumnType<T, string, string>;
/** A jsonb column with a database default. */
export type JsonWithDefault<T> = ColumnType<T, string | undefined, string>;
/** A nullable jsonb column. */
export type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;
/** A text[] column with a database default of `{}`. */
export type TextArray = ColumnType<string[], readonly string[] | undefined, readonly string[]>;

export const JOB_STATUS_VALUES = JOB_STATUSES;
/** A job status as the `jobs.status` CHECK constraint allows it. */
export type JobStatusValue = (typeof JOB_STATUS_VALUES)[number];

export const TASK_STATUS_VALUES = TASK_STATUSES;
/** A task status as the `tasks.status` CHECK constraint allows it. */
export type TaskStatusValue = (typeof TASK_STATUS_VALUES)[number];

export const WORKER_STATUS_VALUES = WORKER_STATUSES;
/** A worker status as the `workers.status` CHECK constraint allows it. */
export type WorkerStatusValue = (typeof WORKER_STATUS_VALUES)[number];

export const PROJECT_ROLE_VALUES = ['viewer', 'artist', 'manager', 'admin'] as const;
export type ProjectRoleValue = (typeof PROJECT_ROLE_VALUES)[number];

/** The job's counter column for each task status (`tasks_soft_failed` for `soft-failed`). */
export const TASK_COUNTER_COLUMNS = {
  queued: 'tasks_queued',
  active: 'tasks_active',
  completed: 'tasks_completed',
  'soft-failed': 'tasks_soft_failed',
  failed: 'tasks_failed',
  canceled: 'tasks_canceled',
  paused: 'tasks_paused',
} as const satisfies Record<TaskStatusValue, string>;

export interface ProjectsTable {
  id: Generated<string>;
  name: string;
  description: Generated<string>;
  created_at: CreatedAt;
}

export interface UsersTable {
  id: Generated<string>;
  name: string;
  display_name: Generated<string>;
  email: string | null;
  password_hash: string | null;
  is_admin: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  disabled_at: NullableTimestamp;
}

export interface ProjectMembersTable {
  project_id: string;
  user_id: string;
  role: ProjectRoleValue;
  created_at: CreatedAt;
}

export interface ApiTokensTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  /** sha256 hex of the secret; the secret itself is never stored. */
  token_hash: string;
  scopes: TextArray;
  created_at: CreatedAt;
  expires_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface WorkersTable {
  id: Generated<string>;
  name: string;
  token_hash: string;
  platform: Generated<string>;
  task_types: TextArray;
  tags: TextArray;
  status: ColumnType<WorkerStatusValue, WorkerStatusValue | undefined, WorkerStatusValue>;
  /** The requested status (`asleep`, `awake`, `offline`, `restart`, `testing`), or null. */
  status_requested: string | null;
  status_requested_lazy: Generated<boolean>;
  version: Generated<string>;
  address: Generated<string>;
  can_restart: Generated<boolean>;
  host_stats: NullableJson<Record<string, unknown>>;
  last_seen_at: NullableTimestamp;
  signed_on_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

export interface SleepSchedulesTable {
  worker_id: string;
  is_active: Generated<boolean>;
  /** Lower-case day abbreviations: `mo tu we th fr sa su`. */
  days_of_week: TextArray;
  /** `HH:MM`, local to `time_zone`; an end before the start means the window crosses midnight. */
  start_time: string;
  end_time: string;
  /** An IANA zone such as `Europe/Amsterdam`. */
  time_zone: Generated<string>;
  next_check_at: NullableTimestamp;
  /** The status the sleep-schedule duty last applied (migration 0002). */
  applied_status: ColumnType<'asleep' | 'awake' | null, 'asleep' | 'awake' | null | undefined>;
  updated_at: CreatedAt;
}

export interface JobsTable {
  id: Generated<string>;
  name: string;
  type: string;
  type_etag: Generated<string>;
  priority: Generated<number>;
  status: ColumnType<JobStatusValue, JobStatusValue | undefined, JobStatusValue>;
  activity: Generated<string>;
  settings: JsonWithDefault<Record<string, unknown>>;
  metadata: JsonWithDefault<Record<string, string>>;
  project_id: string;
  submitter_id: string | null;
  required_tags: TextArray;
  max_workers: number | null;
  not_before: NullableTimestamp;
  failure_threshold_percent: Generated<number>;
  max_task_failures: Generated<number>;
  blocklist_threshold: Generated<number>;
  tasks_total: Generated<number>;
  tasks_queued: Generated<number>;
  tasks_active: Generated<number>;
  tasks_completed: Generated<number>;
  tasks_soft_failed: Generated<number>;
  tasks_failed: Generated<number>;
  tasks_canceled: Generated<number>;
  tasks_paused: Generated<number>;
  steps_total: Generated<number>;
  steps_done: Generated<number>;
  /** Set when the job is archived: what stays once its tasks and logs are gone. */
  archived_summary: NullableJson<Record<string, unknown>>;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

export interface TasksTable {
  id: Generated<string>;
  job_id: string;
  /** The task's index in its job: stable order, unique per job. */
  idx: number;
  name: string;
  type: string;
  priority: Generated<number>;
  tags: TextArray;
  status: ColumnType<TaskStatusValue, TaskStatusValue | undefined, TaskStatusValue>;
  commands: JsonWithDefault<unknown[]>;
  /** How many dependencies are not completed yet; the task is runnable only at 0. */
  unmet_dependencies: Generated<number>;
  worker_id: string | null;
  activity: Generated<string>;
  progress: Generated<number>;
  steps: number | null;
  steps_done: Generated<number>;
  failure_count: Generated<number>;
  log_size: Generated<number>;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  last_touched_at: NullableTimestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
}

export interface TaskDependenciesTable {
  task_id: string;
  depends_on_id: string;
}

export interface TaskFailuresTable {
  task_id: string;
  worker_id: string;
  failed_at: CreatedAt;
  reason: Generated<string>;
}

export interface JobBlocklistTable {
  job_id: string;
  worker_id: string;
  task_type: string;
  reason: Generated<string>;
  created_at: CreatedAt;
  /** When the worker is forgiven; null blocks it for the life of the job. */
  expires_at: NullableTimestamp;
}

export interface EventsTable {
  id: Generated<number>;
  type: string;
  project_id: string | null;
  job_id: string | null;
  task_id: string | null;
  worker_id: string | null;
  user_id: string | null;
  payload: JsonWithDefault<Record<string, unknown>>;
  created_at: CreatedAt;
}

export interface LastRenderedTable {
  job_id: string;
  task_id: string | null;
  path: string;
  updated_at: CreatedAt;
}

export interface FarmStateTable {
  key: string;
  value: Json<unknown>;
  updated_at: CreatedAt;
}

/** The Kysely schema of the manager's database (snake_case, as in SQL). */
export interface Database {
  projects: ProjectsTable;
  users: UsersTable;
  project_members: ProjectMembersTable;
  api_tokens: ApiTokensTable;
  workers: WorkersTable;
  sleep_schedules: SleepSchedulesTable;
  jobs: JobsTable;
  tasks: TasksTable;
  task_dependencies: TaskDependenciesTable;
  task_failures: TaskFailuresTable;
  job_blocklist: JobBlocklistTable;
  events: EventsTable;
  last_rendered: LastRenderedTable;
  farm_state: FarmStateTable;
  sessions: SessionsTable;
  audit_log: AuditLogTable;
  file_blobs: FileBlobsTable;
  file_checkouts: FileCheckoutsTable;
  file_checkout_files: FileCheckoutFilesTable;
  notification_subscriptions: NotificationSubscriptionsTable;
  notification_events: NotificationEventsTable;
  notification_deliveries: NotificationDeliveriesTable;
  job_dependencies: JobDependenciesTable;
  schedules: SchedulesTable;
  schedule_runs: ScheduleRunsTable;
}

/** Every table of `Database`, in an order safe for TRUNCATE ... CASCADE and for inserts. */
export const TABLE_NAMES = [
  'projects',
  'users',
  'project_members',
  'api_tokens',
  'workers',
  'sleep_schedules',
  'jobs',
  'tasks',
  'task_dependencies',
  'task_failures',
  'job_blocklist',
  'events',
  'last_rendered',
  'farm_state',
  'sessions',
  'audit_log',
  'file_blobs',
  'file_checkouts',
  'file_checkout_files',
  'notification_subscriptions',
  'notification_events',
  'notification_deliveries',
  'job_dependencies',
  'schedules',
  'schedule_runs',
] as const satisfies readonly (keyof Database)[];

export type ProjectRow = Selectable<ProjectsTable>;
export type NewProject = Insertable<ProjectsTable>;
export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type ProjectMemberRow = Selectable<ProjectMembersTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type NewApiToken = Insertable<ApiTokensTable>;
export type WorkerRow = Selectable<WorkersTable>;
export type NewWorker = Insertable<WorkersTable>;
export type WorkerUpdate = Updateable<WorkersTable>;
export type SleepScheduleRow = Selectable<SleepSchedulesTable>;
export type NewSleepSchedule = Insertable<SleepSchedulesTable>;
export type JobRow = Selectable<JobsTable>;
export type NewJob = Insertable<JobsTable>;
export type JobUpdate = Updateable<JobsTable>;
export type TaskRow = Selectable<TasksTable>;
export type NewTask = Insertable<TasksTable>;
export type TaskUpdate = Updateable<TasksTable>;
export type TaskDependencyRow = Selectable<TaskDependenciesTable>;
export type TaskFailureRow = Selectable<TaskFailuresTable>;
export type JobBlocklistRow = Selectable<JobBlocklistTable>;
export type EventRow = Selectable<EventsTable>;
export type NewEvent = Insertable<EventsTable>;
export type LastRenderedRow = Selectable<LastRenderedTable>;
export type FarmStateRow = Selectable<FarmStateTable>;
