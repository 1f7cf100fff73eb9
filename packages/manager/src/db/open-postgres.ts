import { FarmError } from '@farm/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { Pool, types as pgTypes, type CustomTypesConfig } from 'pg';
import { enableCopyRows } from './copy-rows-client';
import { redactDatabaseUrl, type DbLogger } from './db-logger';
import { PgListener } from './pg-listener';
import { prepareMarkedStatements } from './prepared-statements';
import type { Database } from './tables';

const INT8_OID = 20;

/** How the manager's connections show in `pg_stat_activity`. */
export const APPLICATION_NAME = 'farm-manager';
/** The one connection per manager that LISTENs. */
export const LISTENER_APPLICATION_NAME = 'farm-manager-listener';

// int8 as a JS number, as PGlite does: counts and bigserial ids fit in 2^53; beyond that a bigint
// keeps the value exact instead of silently rounding it.
function parseInt8(value: string): number | bigint {
  const parsed = BigInt(value);
  return parsed > BigInt(Number.MAX_SAFE_INTEGER) || parsed < BigInt(Number.MIN_SAFE_INTEGER)
    ? parsed
    : Number(parsed);
}

/** pg type parsers that make results match PGlite's. */
export const PG_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : (pgTypes.getTypeParser(oid, format) as unknown)) as CustomTypesConfig['getTypeParser'],
};

export interface OpenedPostgres {
  db: Kysely<Database>;
  listener: PgListener;
  pool: Pool;
}

/** Connects to Postgres at `url`, proving the connection with one query. */
export async function openPostgres(
  url: string,
  options: { log: DbLogger; poolSize?: number },
): Promise<OpenedPostgres> {
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types: PG_TYPES,
    application_name: APPLICATION_NAME,
    // No JIT: the claim statement's cost estimate passes jit_above_cost once a few thousand jobs
    // are runnable, and compiling it took 300+ ms per run against 10-40 ms to run it
    // (bench/tools/time-claim-batches.js 20000 100 8 2000; docs/decisions/0024).
    options: '-c jit=off',
  });
  // An idle client's error (server restart, network) must not crash the process; the pool
  // replaces the client on the next checkout.
  pool.on('error', (error) =>
    options.log.warn('idle database connection failed', { error: error.message }),
  );
  pool.on('connect', (client) => prepareMarkedStatements(client));
  pool.on('connect', (client) => enableCopyRows(client));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new FarmError(
      'unavailable',
      `cannot connect to Postgres at ${redactDatabaseUrl(url)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const listener = new PgListener(
    { connectionString: url, types: PG_TYPES, application_name: LISTENER_APPLICATION_NAME },
    options.log,
  );
  return { db, listener, pool };
}
