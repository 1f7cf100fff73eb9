import type { ColumnType, Generated } from 'kysely';
import type { CreatedAt, Json, NullableTimestamp } from './tables';

// The tables of migration 0006 (schedules, their runs, job-on-job dependencies), kept apart from
// tables.ts so that file stays small.

export interface JobDependenciesTable {
  job_id: string;
  depends_on_job_id: string;
}

export interface SchedulesTable {
  id: Generated<string>;
  name: string;
  /** A cron expression, or null for an interval schedule. */
  cron: string | null;
  /** The interval, or null for a cron schedule. */
  interval_ms: number | null;
  /** An IANA zone; the cron expression is read in it. */
  time_zone: Generated<string>;
  enabled: Generated<boolean>;
  /** The submitJob body each run submits (a JSON string when written). */
  template: Json<Record<string, unknown>>;
  owner_id: string | null;
  /** null while disabled. */
  next_run_at: NullableTimestamp;
  last_run_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

export interface ScheduleRunsTable {
  id: Generated<number>;
  schedule_id: string;
  scheduled_for: ColumnType<Date, Date | string, Date | string>;
  fired_at: CreatedAt;
  job_id: string | null;
  error: string | null;
}
