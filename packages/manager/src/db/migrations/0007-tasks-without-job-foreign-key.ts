import { sql, type Kysely, type RawBuilder } from 'kysely';

// Storing a 100,000-task job: the foreign key tasks.job_id -> jobs checked every new task row
// with its own lookup of the job row, 0.6-0.7 s of Postgres's time per 100,000 rows and about
// 1 s of PGlite's (docs/decisions/0019). Tasks are only ever inserted by the submission, in the
// transaction that inserts their job, so the key guarded nothing there; its ON DELETE CASCADE is
// kept by a trigger. Forward-only, like every migration: never edit it once released.

const statements: RawBuilder<unknown>[] = [
  sql`alter table tasks drop constraint tasks_job_id_fkey`,
  // A deleted job (by a person, or with its project) takes its tasks along, and with them their
  // dependencies and failures (those keys still cascade).
  sql`
    create function farm_delete_job_tasks() returns trigger language plpgsql as $$
    begin
      delete from tasks where job_id = old.id;
      return null;
    end
    $$`,
  sql`
    create trigger jobs_delete_tasks after delete on jobs
      for each row execute function farm_delete_job_tasks()`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}
