import { FarmError } from '@farm/core';
import { Migrator, sql, type Kysely } from 'kysely';
import { MIGRATIONS } from './migrations';

/** Kysely's migration bookkeeping tables. */
export const MIGRATION_TABLE = 'schema_meta';
export const MIGRATION_LOCK_TABLE = 'schema_meta_lock';

/** What `migrate` did. */
export interface MigrateResult {
  /** Migrations applied by this call, in order; empty when the schema was already current. */
  applied: string[];
  /** The newest migration now in the database. */
  current: string | undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyKysely = Kysely<any>;

function createMigrator(db: AnyKysely): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
}

/** The names of the migrations recorded in the database, oldest first; empty on a new database. */
export async function appliedMigrations(db: AnyKysely): Promise<string[]> {
  const { rows } = await sql<{ exists: string | null }>`
    select to_regclass(${MIGRATION_TABLE}) as exists`.execute(db);
  if (!rows[0]?.exists) return [];
  const applied = await sql<{ name: string }>`
    select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db);
  return applied.rows.map((row) => row.name);
}

/**
 * Refuses a database that has migrations this build does not know: it was upgraded by a newer
 * manager, and running old code on it could corrupt it.
 *
 * @throws FarmError `unavailable`, telling the user to upgrade.
 */
export async function assertSchemaNotNewer(db: AnyKysely): Promise<void> {
  const unknown = (await appliedMigrations(db)).filter((name) => !(name in MIGRATIONS));
  if (unknown.length === 0) return;
  throw new FarmError(
    'unavailable',
    `the database schema is newer than this Farm manager: it has migration(s) ` +
      `${unknown.join(', ')}, which this version does not know. Upgrade the manager to the ` +
      `version that created them (downgrading a database is not supported).`,
    { details: { unknownMigrations: unknown } },
  );
}

/**
 * Brings the schema up to date, forward only. Safe to run from several managers at once (Kysely
 * takes an advisory lock) and a no-op when nothing is pending.
 *
 * @throws FarmError `unavailable` for a schema newer than this build, `internal` when a
 * migration fails (the failed migration is rolled back: Postgres DDL is transactional).
 */
export async function migrate(db: AnyKysely): Promise<MigrateResult> {
  await assertSchemaNotNewer(db);
  const { error, results } = await createMigrator(db).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName;
    const message = error instanceof Error ? error.message : JSON.stringify(error);
    throw new FarmError(
      'internal',
      failed
        ? `database migration ${failed} failed: ${message}`
        : `database migration failed: ${message}`,
      { cause: error },
    );
  }
  const applied = (results ?? [])
    .filter((result) => result.status === 'Success')
    .map((result) => result.migrationName);
  const all = await appliedMigrations(db);
  return { applied, current: all[all.length - 1] };
}
