/**
 * Databases for integration tests: a migrated, empty database per test file, on PGlite always and
 * also on real Postgres when FARM_TEST_DATABASE_URL is set (CI sets it).
 *
 * - Postgres: one template database per schema (`farm_template_<hash>`, built under an advisory
 *   lock so parallel jest workers do not race), then `CREATE DATABASE farm_t_<random> TEMPLATE`
 *   per file, dropped afterwards.
 * - PGlite: creating a database takes 5-10 s, so an initialised folder and a migrated folder are
 *   cached under the OS temp folder (keyed by PGlite version and migration sources) and copied per
 *   test file (about 0.3 s plus 0.7 s to open).
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { Client } from 'pg';
import {
  createDatabase,
  migrate,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  type Database,
  type FarmDatabase,
} from '../../src/db';

export type TestBackend = 'pglite' | 'postgres';

/** The backends available here: PGlite always, Postgres when FARM_TEST_DATABASE_URL is set. */
export function testBackends(): TestBackend[] {
  return process.env.FARM_TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDatabase {
  readonly backend: TestBackend;
  readonly database: FarmDatabase;
  /** Postgres: the URL of this test database. */
  readonly url?: string;
  /** PGlite: the data folder (the database is in `<dataDir>/db`). */
  readonly dataDir?: string;
  /** Postgres only: another, independent connection pool to the same database. */
  openAnother(): Promise<FarmDatabase>;
  /** Closes every connection opened here and deletes the database. */
  dispose(): Promise<void>;
}

const MIGRATIONS_DIR = path.join(__dirname, '../../src/db/migrations');

function pgliteVersion(): string {
  const entry = require.resolve('@electric-sql/pglite');
  const manifest = path.join(path.dirname(entry), '..', 'package.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** A hash of the migration sources: an edited migration gets a fresh template. */
export function schemaHash(): string {
  const hash = createHash('sha256');
  for (const file of fs.readdirSync(MIGRATIONS_DIR).sort()) {
    hash.update(file).update(fs.readFileSync(path.join(MIGRATIONS_DIR, file)));
  }
  return hash.digest('hex').slice(0, 12);
}

function randomName(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// PGlite

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Builds `target` once across parallel jest workers: a lock file, then an atomic rename. */
async function buildOnce(target: string, build: (scratch: string) => Promise<void>) {
  const lock = `${target}.lock`;
  for (;;) {
    if (fs.existsSync(target)) return;
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
    } catch {
      const holder = Number(fs.readFileSync(lock, 'utf8') || '0');
      if (holder && !isAlive(holder)) fs.rmSync(lock, { force: true });
      await sleep(200);
      continue;
    }
    try {
      if (fs.existsSync(target)) return;
      const scratch = `${target}.building-${process.pid}`;
      fs.rmSync(scratch, { recursive: true, force: true });
      await build(scratch);
      fs.renameSync(scratch, target);
      return;
    } finally {
      fs.rmSync(lock, { force: true });
    }
  }
}

async function pgliteTemplate(migrated: boolean): Promise<string> {
  const empty = path.join(os.tmpdir(), `farm-pglite-empty-${pgliteVersion()}`);
  await buildOnce(empty, async (scratch) => {
    const database = await createDatabase({ dataDir: scratch });
    await database.close();
  });
  if (!migrated) return empty;
  const template = path.join(os.tmpdir(), `farm-pglite-template-v2-${schemaHash()}`);
  await buildOnce(template, async (scratch) => {
    fs.cpSync(empty, scratch, { recursive: true });
    const database = await createDatabase({ dataDir: scratch });
    try {
      await migrate(database.db);
      // Tests never create databases, and without the two templates there is a third less to
      // copy per test file (25 MB instead of 40 MB).
      for (const name of ['template0', 'template1']) {
        await sql`alter database ${sql.id(name)} is_template false`.execute(database.db);
        await sql`drop database ${sql.id(name)}`.execute(database.db);
      }
      await sql`checkpoint`.execute(database.db);
    } finally {
      await database.close();
    }
  });
  return template;
}

async function createPGliteTestDatabase(migrated: boolean): Promise<TestDatabase> {
  const template = await pgliteTemplate(migrated);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-pglite-test-'));
  fs.cpSync(path.join(template, 'db'), path.join(dataDir, 'db'), { recursive: true });
  const database = await createDatabase({ dataDir });
  return {
    backend: 'pglite',
    database,
    dataDir,
    openAnother: () => Promise.reject(new Error('PGlite has a single connection')),
    dispose: async () => {
      await database.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Postgres

// Any constant works; it only has to be the same in every jest worker.
const TEMPLATE_LOCK_KEY = 4_242_001;

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function withAdminClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: process.env.FARM_TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function databaseExists(client: Client, name: string): Promise<boolean> {
  const result = await client.query('select 1 from pg_database where datname = $1', [name]);
  return result.rowCount === 1;
}

async function postgresTemplate(adminUrl: string): Promise<string> {
  const name = `farm_template_${schemaHash()}`;
  await withAdminClient(async (client) => {
    await client.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      if (await databaseExists(client, name)) return;
      const building = `${name}_building`;
      await client.query(`drop database if exists ${building} with (force)`);
      await client.query(`create database ${building}`);
      const database = await createDatabase({
        url: withDatabaseName(adminUrl, building),
        dataDir: '',
      });
      try {
        await migrate(database.db);
      } finally {
        await database.close();
      }
      await client.query(`alter database ${building} rename to ${name}`);
      // Templates of older schemas are dead weight once the migrations changed.
      const stale = await client.query<{ datname: string }>(
        `select datname from pg_database where datname like 'farm\\_template\\_%' and datname <> $1`,
        [name],
      );
      for (const row of stale.rows) {
        await client.query(`drop database if exists ${row.datname} with (force)`).catch(() => {});
      }
    } finally {
      await client.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  });
  return name;
}

async function createPostgresTestDatabase(migrated: boolean): Promise<TestDatabase> {
  const adminUrl = process.env.FARM_TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('FARM_TEST_DATABASE_URL is not set');
  const template = migrated ? await postgresTemplate(adminUrl) : 'template1';
  const name = randomName('farm_t_');
  await withAdminClient((client) => client.query(`create database ${name} template ${template}`));
  const url = withDatabaseName(adminUrl, name);
  const opened: FarmDatabase[] = [];
  const open = async () => {
    const database = await createDatabase({ url, dataDir: '' });
    opened.push(database);
    return database;
  };
  const database = await open();
  return {
    backend: 'postgres',
    database,
    url,
    openAnother: open,
    dispose: async () => {
      for (const each of opened) await each.close();
      await withAdminClient((client) =>
        client.query(`drop database if exists ${name} with (force)`),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * A database of its own for one test file: migrated and empty (but for the `default` project),
 * or, with `migrated: false`, without any table.
 */
export function createTestDatabase(
  backend: TestBackend,
  options: { migrated?: boolean } = {},
): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  return backend === 'pglite'
    ? createPGliteTestDatabase(migrated)
    : createPostgresTestDatabase(migrated);
}

/**
 * Empties every table but the migration bookkeeping and puts back the `default` project, as the
 * first migration left it. For `beforeEach` between tests of one file.
 */
export async function resetDatabase(db: Kysely<Database>): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    select tablename as name from pg_tables
    where schemaname = 'public' and tablename not in (${MIGRATION_TABLE}, ${MIGRATION_LOCK_TABLE})`.execute(
    db,
  );
  if (rows.length > 0) {
    const tables = sql.join(rows.map((row) => sql.table(row.name)));
    await sql`truncate ${tables} restart identity cascade`.execute(db);
  }
  await db
    .insertInto('projects')
    .values({ name: 'default', description: 'The default project' })
    .execute();
}

/** How long a test file may take to get its database (building a template takes seconds). */
export const TEST_DATABASE_TIMEOUT_MS = 120_000;

/**
 * Runs `block` once per available backend, titled `name [pglite]` / `name [postgres]`, each with a
 * migrated, empty database of its own for the whole block. `getDb()` is valid inside tests and
 * hooks. Pass `resetBetweenTests` to empty the tables before every test.
 *
 * @example
 * describeEachDatabase('jobs', (getDb) => {
 *   it('stores a job', async () => { await getDb().db.insertInto('jobs')... });
 * });
 */
export function describeEachDatabase(
  name: string,
  block: (getDb: () => FarmDatabase, backend: TestBackend) => void,
  options: { resetBetweenTests?: boolean } = {},
): void {
  for (const backend of testBackends()) {
    describe(`${name} [${backend}]`, () => {
      let testDatabase: TestDatabase | undefined;
      beforeAll(async () => {
        testDatabase = await createTestDatabase(backend);
      }, TEST_DATABASE_TIMEOUT_MS);
      afterAll(async () => {
        await testDatabase?.dispose();
      });
      if (options.resetBetweenTests) {
        beforeEach(async () => {
          if (testDatabase) await resetDatabase(testDatabase.database.db);
        });
      }
      block(() => {
        if (!testDatabase) throw new Error('the test database is not ready (beforeAll failed?)');
        return testDatabase.database;
      }, backend);
    });
  }
}
