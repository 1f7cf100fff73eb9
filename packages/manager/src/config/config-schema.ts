import { BYTE_SIZE_PATTERN, DURATION_PATTERN } from './parse-duration';

/** Formats the config schema uses; registered on the validator by `resolveConfig`. */
export const CONFIG_FORMATS: Record<string, RegExp> = {
  'farm-duration': DURATION_PATTERN,
  'farm-byte-size': BYTE_SIZE_PATTERN,
};

const duration = { type: ['integer', 'string'], minimum: 0, format: 'farm-duration' };
const count = { type: 'integer', minimum: 1 };

/** One value of a variable: for a platform (or several), for an audience (`users`, `workers`). */
const variableValue = {
  type: 'object',
  required: ['value'],
  additionalProperties: false,
  properties: {
    platform: { type: 'string' },
    platforms: { type: 'array', items: { type: 'string' } },
    audience: { type: 'string', enum: ['all', 'users', 'workers'] },
    value: { type: 'string' },
  },
};

/**
 * The JSON Schema (draft-07) of one configuration layer, with the file's snake_case keys. Every
 * key is optional: a layer only holds what it sets. Env and flag layers are validated with type
 * coercion, since they arrive as strings.
 */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    host: { type: 'string', minLength: 1 },
    data_dir: { type: 'string', minLength: 1 },
    database_url: { type: 'string', pattern: '^(postgres|postgresql)://' },
    job_types_dir: { type: 'string', minLength: 1 },
    storage_dir: { type: 'string', minLength: 1 },
    log_level: {
      type: 'string',
      enum: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'],
    },
    log_format: { type: 'string', enum: ['auto', 'json', 'pretty'] },
    discovery: { type: 'boolean' },
    local_worker: { type: 'boolean' },
    task_timeout: duration,
    worker_timeout: duration,
    max_task_failures: count,
    blocklist_threshold: count,
    blocklist_forgive_time: duration,
    duty_interval: { ...duration, minimum: 1 },
    worker_cleanup_age: duration,
    job_archive_age: duration,
    file_gc_age: duration,
    checkout_age: duration,
    failure_threshold_percent: { type: 'integer', minimum: 0, maximum: 100 },
    registration_secret: { type: 'string', minLength: 8 },
    access_token_key: { type: 'string', minLength: 32 },
    body_limit: { type: ['integer', 'string'], minimum: 1, format: 'farm-byte-size' },
    smtp_url: { type: 'string', pattern: '^smtps?://' },
    smtp_from: { type: 'string', minLength: 3 },
    notification_retry_base: { ...duration, minimum: 1 },
    notification_max_attempts: count,
    variables: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['values'],
        additionalProperties: false,
        properties: {
          is_twoway: { type: 'boolean' },
          values: { type: 'array', items: variableValue },
        },
      },
    },
  },
} as const;
