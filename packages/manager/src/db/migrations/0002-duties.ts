import { sql, type Kysely } from 'kysely';

// The failure-handling duties (issue 8). The sleep-schedule duty applies a schedule only when the
// status it wants changes (or the schedule was just set), so a person's override inside a window
// stands until the next boundary; it remembers the status it last applied here.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table sleep_schedules add column applied_status text
      check (applied_status in ('asleep', 'awake'))`.execute(db);
  // The clean-up duty finds finished jobs by age.
  await sql`
    create index jobs_finished_idx on jobs (updated_at)
      where status in ('completed', 'canceled', 'failed')`.execute(db);
}
