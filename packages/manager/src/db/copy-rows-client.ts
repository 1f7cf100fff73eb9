import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { copyRowsInputOf, type CopyRowsInput } from './queries/copy-rows';

type QueryFunction = (...args: unknown[]) => unknown;

async function copyIn(
  query: QueryFunction,
  statement: string,
  input: CopyRowsInput,
): Promise<{ command: string; rowCount: number; rows: unknown[] }> {
  const stream = query(copyFrom(statement)) as ReturnType<typeof copyFrom>;
  // A chunk that throws (or a row the server refuses) ends the COPY with CopyFail: the server
  // answers with an error, the transaction is aborted and the client stays usable to roll back.
  await pipeline(Readable.from(input.chunks()), stream);
  // Reported as an INSERT so that Kysely passes the row count on as `numAffectedRows`.
  return { command: 'INSERT', rowCount: stream.rowCount, rows: [] };
}

/**
 * Lets a pool client run `copyRows`: Kysely keeps its `pg` client to itself and calls
 * `client.query(text, values)`, so a query whose only value is a `CopyRowsInput` is sent as
 * COPY FROM STDIN here, on the client that holds the caller's transaction (docs/decisions/0018).
 * Other call shapes pass through unchanged.
 */
export function enableCopyRows(client: ClientBase): void {
  const original = client.query.bind(client) as QueryFunction;
  const patched: QueryFunction = (...args) => {
    const [text, values] = args;
    const input = Array.isArray(values) ? copyRowsInputOf(values) : undefined;
    if (input !== undefined && typeof text === 'string' && args.length === 2) {
      return copyIn(original, text, input);
    }
    return original(...args);
  };
  (client as unknown as { query: QueryFunction }).query = patched;
}
