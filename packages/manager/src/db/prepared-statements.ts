import type { ClientBase, QueryResult } from 'pg';

/**
 * The prefix that makes a statement a named prepared statement on Postgres:
 * `sql\`${PREPARED('claim-batch')} with ...\`` (through `sql.raw`, see `preparedAs`).
 *
 * Why: the manager's hottest statements (the claim, the report batches) are long CTE chains
 * whose parsing and planning cost more than running them; a named statement is parsed once per
 * connection and, after a few runs, planned once (bench/tools/time-claim-batches.js: a claim of
 * 32 workers 22-23 ms unprepared, 5-7 ms prepared; docs/decisions/0024). The statement's text
 * must not vary between runs (values go in parameters), or pg refuses it.
 * PGlite ignores the comment.
 */
export const PREPARED_PREFIX = '/* prepared:';
const PREPARED_SUFFIX = ' */';

/** The SQL text that starts a statement prepared under `name` (letters, digits and dashes). */
export function preparedMarker(name: string): string {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`invalid prepared statement name "${name}"`);
  return `${PREPARED_PREFIX}${name}${PREPARED_SUFFIX} `;
}

/** The prepared statement name of a SQL text, or null when it carries no marker. */
export function preparedNameOf(text: string): string | null {
  if (!text.startsWith(PREPARED_PREFIX)) return null;
  const end = text.indexOf(PREPARED_SUFFIX, PREPARED_PREFIX.length);
  return end < 0 ? null : `farm-${text.slice(PREPARED_PREFIX.length, end)}`;
}

type QueryFunction = (...args: unknown[]) => Promise<QueryResult> | undefined;

/**
 * Makes a pool client run marked statements as named prepared statements. Kysely calls
 * `client.query(text, values)`; other call shapes pass through unchanged.
 */
export function prepareMarkedStatements(client: ClientBase): void {
  const original = client.query.bind(client) as QueryFunction;
  const patched: QueryFunction = (...args) => {
    const [text, values] = args;
    if (typeof text === 'string' && args.length <= 2) {
      const name = preparedNameOf(text);
      if (name) return original({ name, text, values: values as unknown[] | undefined });
    }
    return original(...args);
  };
  (client as unknown as { query: QueryFunction }).query = patched;
}
