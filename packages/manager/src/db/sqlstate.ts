/** Postgres SQLSTATE codes the manager reacts to (the same on PGlite). */
export const SQLSTATE = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
  CHECK_VIOLATION: '23514',
  NOT_NULL_VIOLATION: '23502',
  INVALID_TEXT_REPRESENTATION: '22P02',
  /** Retry the transaction. */
  SERIALIZATION_FAILURE: '40001',
  /** Retry the transaction. */
  DEADLOCK_DETECTED: '40P01',
  LOCK_NOT_AVAILABLE: '55P03',
  UNDEFINED_TABLE: '42P01',
} as const;

export type SqlState = (typeof SQLSTATE)[keyof typeof SQLSTATE];

/** The SQLSTATE of a database error from `pg` or PGlite, if it is one. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True when `error` is a database error with the given SQLSTATE. */
export function isSqlState(error: unknown, state: SqlState): boolean {
  return sqlStateOf(error) === state;
}

// Errors that mean "the database cannot be reached right now" rather than "this query is wrong":
// a server restart or failover ends every session (57P01 and friends), a server that is down
// refuses connections (ECONNREFUSED from the driver), a dropped link ends a query mid-way.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const UNAVAILABLE_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error/,
  /^Client was closed and is not queryable/,
  /^Cannot use a pool after calling end/,
];

/**
 * True when `error` says the database is unreachable for now (down, restarting, failing over,
 * out of connections): the request may succeed if retried later, so it is answered with 503,
 * not 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Duck-typed, not `instanceof Error`: the driver's errors may come from another realm.
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  const message = (error as { message?: unknown }).message;
  if (typeof code === 'string') {
    // SQLSTATE class 08: connection exception.
    if (code.startsWith('08') && /^[0-9A-Z]{5}$/.test(code)) return true;
    if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_SYSTEM_CODES.has(code)) return true;
  }
  if (
    typeof message === 'string' &&
    UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))
  ) {
    return true;
  }
  // pg-pool wraps a failed connect; AggregateError holds one error per address tried.
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && cause !== error && isDatabaseUnavailable(cause)) return true;
  const errors = (error as { errors?: unknown }).errors;
  return Array.isArray(errors) && errors.length > 0 && errors.every(isDatabaseUnavailable);
}
