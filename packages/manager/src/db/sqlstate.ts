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
