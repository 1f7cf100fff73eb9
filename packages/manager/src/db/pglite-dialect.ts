import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { Mutex } from './mutex';
import { copyRowsInputOf, type CopyRowsInput } from './queries/copy-rows';

// Why our own dialect: the published kysely-pglite-dialect targets PGlite 0.2-0.3 and does not
// work with 0.5 (docs/decisions/0003-database.md). PGlite is one Postgres backend with one
// session, so every Kysely "connection" is the same session: the mutex hands it to one user at a
// time, which keeps a transaction's statements from interleaving with anyone else's.

const AFFECTED_ROWS_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

class PGliteConnection implements DatabaseConnection {
  constructor(
    private readonly pglite: PGlite,
    readonly release: () => void,
  ) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const copyInput = copyRowsInputOf(compiledQuery.parameters);
    if (copyInput !== undefined) return this.copyIn(compiledQuery.sql, copyInput);
    const result = await this.pglite.query<R>(compiledQuery.sql, [...compiledQuery.parameters]);
    const command = result.command?.toUpperCase();
    return {
      rows: result.rows,
      numAffectedRows:
        command !== undefined && AFFECTED_ROWS_COMMANDS.has(command)
          ? BigInt(result.affectedRows ?? 0)
          : undefined,
    };
  }

  // PGlite reads COPY data from a file, `/dev/blob`, filled from the query's blob (COPY FROM
  // STDIN waits forever); a chunk that throws ends `copyRows` before anything is sent.
  private async copyIn<R>(statement: string, input: CopyRowsInput): Promise<QueryResult<R>> {
    const fromBlob = statement.replace(/\bfrom\s+stdin\s*$/i, "from '/dev/blob'");
    if (fromBlob === statement) throw new Error(`not a COPY FROM STDIN statement: ${statement}`);
    const blob = new Blob([...input.chunks()]);
    const result = await this.pglite.query<R>(fromBlob, [], { blob });
    return { rows: [], numAffectedRows: BigInt(result.affectedRows ?? 0) };
  }

  // PGlite has no server-side cursors through `query`, so a stream is the full result in chunks.
  async *streamQuery<R>(
    compiledQuery: CompiledQuery,
    chunkSize = 100,
  ): AsyncIterableIterator<QueryResult<R>> {
    const { rows } = await this.executeQuery<R>(compiledQuery);
    for (let i = 0; i < rows.length; i += chunkSize) yield { rows: rows.slice(i, i + chunkSize) };
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

class PGliteDriver implements Driver {
  constructor(
    private readonly pglite: PGlite,
    private readonly mutex: Mutex,
  ) {}

  async init(): Promise<void> {
    await this.pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.mutex.acquire();
    return new PGliteConnection(this.pglite, release);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    let statement = 'begin';
    if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode) statement += ` ${settings.accessMode}`;
    await connection.executeQuery(CompiledQuery.raw(statement));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteIdentifier(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(
      CompiledQuery.raw(`rollback to savepoint ${quoteIdentifier(name)}`),
    );
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release savepoint ${quoteIdentifier(name)}`));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PGliteConnection).release();
    return Promise.resolve();
  }

  async destroy(): Promise<void> {
    // Wait for whoever holds the session so a running transaction is not cut off mid-way.
    await this.mutex.runExclusive(async () => {
      if (!this.pglite.closed) await this.pglite.close();
    });
  }
}

/**
 * A Kysely dialect over one PGlite instance. Pass the same `mutex` to anything else that talks to
 * the instance directly (LISTEN, say), so it never lands inside someone's transaction.
 *
 * Note: inside `db.transaction().execute(trx => ...)`, run every query on `trx`: a query on `db`
 * waits for the transaction's session and so would wait forever.
 */
export class PGliteDialect implements Dialect {
  constructor(private readonly options: { pglite: PGlite; mutex: Mutex }) {}

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PGliteDriver(this.options.pglite, this.options.mutex);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}
