import { CompiledQuery } from 'kysely';
import type { Executor } from './jobs';

/**
 * The data of one `COPY ... FROM STDIN` (Postgres) or `COPY ... FROM '/dev/blob'` (PGlite) in
 * Postgres's text format, as chunks of whole rows. It travels to the connection as the only
 * parameter of a compiled query (`copyRows`), so COPY runs on the connection that holds the
 * caller's transaction: the dialects of `createDatabase` recognise it (`open-postgres.ts`,
 * `pglite-dialect.ts`).
 */
export class CopyRowsInput {
  constructor(readonly chunks: () => Iterable<string>) {}

  /** What `pg` calls to send a parameter: a COPY input must never reach the server as one. */
  toPostgres(): never {
    throw new Error(
      'this database connection cannot COPY rows: open the database with createDatabase',
    );
  }
}

/** Whether a compiled query is a COPY whose rows are `parameters[0]`. */
export function copyRowsInputOf(parameters: readonly unknown[]): CopyRowsInput | undefined {
  const first = parameters[0];
  return parameters.length === 1 && first instanceof CopyRowsInput ? first : undefined;
}

/**
 * Runs `statement` (`copy <table> (<columns>) from stdin`) with the rows of `chunks`, on the
 * connection of `db` (so inside its transaction when `db` is one). Returns the rows stored.
 * An exception thrown by `chunks` while it is read aborts the COPY and is rethrown.
 */
export async function copyRows(
  db: Executor,
  statement: string,
  chunks: () => Iterable<string>,
): Promise<number> {
  const result = await db.executeQuery(CompiledQuery.raw(statement, [new CopyRowsInput(chunks)]));
  return Number(result.numAffectedRows ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Postgres's COPY text format: one line per row, columns separated by tabs, `\N` for null.

/** The text of a null column. */
export const COPY_NULL = '\\N';

/** Why a value cannot be stored as Postgres text; undefined when it can. */
export function unstorableText(value: string): string | undefined {
  if (value.includes('\0'))
    return 'contains the NUL character (U+0000), which Postgres cannot store';
  if (LONE_SURROGATE.test(value)) {
    return 'contains a lone UTF-16 surrogate, which is no Unicode character';
  }
  return undefined;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// What COPY's text format escapes, plus what it cannot carry at all: one test on the fast path.
const COPY_SPECIAL = /[\\\t\n\r\0\ud800-\udfff]/;
const COPY_ESCAPED = /[\\\t\n\r]/g;
const COPY_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

/** Thrown by the `copy*` encoders for a value Postgres cannot store; `reason` says why. */
export class UnstorableValueError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UnstorableValueError';
  }
}

/**
 * `value` as one column of COPY's text format.
 *
 * @throws UnstorableValueError for text Postgres cannot store: NUL, and lone surrogates (which
 *   `Buffer` would silently turn into U+FFFD).
 */
export function copyText(value: string): string {
  if (!COPY_SPECIAL.test(value)) return value;
  const reason = unstorableText(value);
  if (reason !== undefined) throw new UnstorableValueError(reason);
  return value.replace(COPY_ESCAPED, (c) => COPY_ESCAPES[c]!);
}

/** A text[] column: an array literal of quoted elements, then escaped as COPY text. */
export function copyTextArray(values: readonly string[]): string {
  if (values.length === 0) return '{}';
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    literal += `${i === 0 ? '' : ','}"${/["\\]/.test(value) ? value.replace(/["\\]/g, '\\$&') : value}"`;
  }
  return copyText(`${literal}}`);
}

// JSON.stringify writes control characters and lone surrogates as \u escapes; jsonb refuses
// \u0000 and lone surrogate escapes. An escape is one whose backslash is not itself escaped.
const UNSTORABLE_JSON_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u(?:0000|d[89a-f])/i;

/**
 * A json/jsonb column from the JSON text of `JSON.stringify`: that text has no raw tab, newline
 * or carriage return (they are escaped), so only its backslashes need doubling.
 */
export function copyJson(json: string): string {
  if (!json.includes('\\')) return json;
  if (json.includes('\\u') && UNSTORABLE_JSON_ESCAPE.test(json)) {
    throw new UnstorableValueError(
      'contains the NUL character (U+0000) or a lone UTF-16 surrogate, which Postgres cannot store',
    );
  }
  return json.replace(/\\/g, '\\\\');
}
