/**
 * Every error code Farm's API and libraries use. Stable: clients branch on these, so a code is
 * never renamed, only added. The OpenAPI `Error.code` enum lists the same values (a test checks).
 */
export const ERROR_CODES = [
  'bad_request',
  'validation_failed',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'invalid_transition',
  'job_type_stale',
  'compile_failed',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'internal',
  // The file store: uploaded bytes that do not match the SHA-256 or size they were sent as.
  'checksum_mismatch',
  'size_mismatch',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The HTTP status each code maps to; the manager's error middleware uses this table only. */
export const ERROR_CODE_HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_transition: 409,
  job_type_stale: 412,
  compile_failed: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
  checksum_mismatch: 422,
  size_mismatch: 422,
};
