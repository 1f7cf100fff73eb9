import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../src/db';

/** Every row of the job-related tables, in a stable order, for "nothing changed" checks. */
export async function snapshotTables(db: Kysely<Database>): Promise<Record<string, unknown[]>> {
  const tables = ['jobs', 'tasks', 'task_dependencies', 'task_failures', 'job_blocklist'] as const;
  const snapshot: Record<string, unknown[]> = {};
  for (const table of tables) {
    const { rows } = await sql<Record<string, unknown>>`
      select to_jsonb(x)::text as row from ${sql.table(table)} x order by 1`.execute(db);
    snapshot[table] = rows.map((row) => row.row);
  }
  return snapshot;
}
