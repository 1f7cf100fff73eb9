/** How a config value is written in env vars and flags, so it can be turned into its type. */
export type ConfigValueKind =
  'integer' | 'string' | 'path' | 'boolean' | 'duration' | 'size' | 'enum' | 'json';

/** One configuration key: its file name, env var, flag, default and meaning. */
export interface ConfigOption {
  /** The key in `farm-manager.yaml` (snake_case). */
  key: string;
  kind: ConfigValueKind;
  /** Environment variables, first found wins. */
  env: readonly string[];
  /** The command-line flag, kebab-case; undefined for keys that have none. */
  flag?: string;
  /** The default as written in the YAML file; undefined when unset by default. */
  default?: string | number | boolean;
  description: string;
}

const option = (
  key: string,
  kind: ConfigValueKind,
  description: string,
  extra: Partial<ConfigOption> = {},
): ConfigOption => ({
  key,
  kind,
  env: [`FARM_${key.toUpperCase()}`],
  flag: `--${key.replace(/_/g, '-')}`,
  description,
  ...extra,
});

/** Every key of the manager's configuration, in the order `init-config` writes them. */
export const CONFIG_OPTIONS: readonly ConfigOption[] = [
  option('port', 'integer', 'TCP port of the API, the web app and the worker socket.', {
    default: 8080,
  }),
  option('host', 'string', 'Address to listen on.', { default: '0.0.0.0' }),
  option('data_dir', 'path', 'Folder for the embedded database, logs, previews and secrets.', {
    default: './farm-data',
  }),
  option(
    'database_url',
    'string',
    'A postgres:// URL. Unset: the embedded database (PGlite) in <data_dir>/db.',
    { env: ['FARM_DATABASE_URL', 'DATABASE_URL'] },
  ),
  option('job_types_dir', 'path', 'Extra job-type scripts, reloaded when they change.', {
    default: '<data_dir>/job-types',
  }),
  option('storage_dir', 'path', 'Task logs, uploads and last-rendered images.', {
    default: '<data_dir>/storage',
  }),
  option('log_level', 'enum', 'error, warn, info, http, verbose, debug or silly.', {
    default: 'info',
  }),
  option('log_format', 'enum', 'json, pretty, or auto (pretty on a terminal).', {
    default: 'auto',
  }),
  option('discovery', 'boolean', 'Advertise the manager on the LAN with mDNS.', { default: true }),
  option('local_worker', 'boolean', 'Also start a worker in this process (single machine).', {
    default: false,
  }),
  option('task_timeout', 'duration', 'A task with no update for this long is failed over.', {
    default: '10m',
  }),
  option('worker_timeout', 'duration', 'A worker not seen for this long is marked error.', {
    default: '1m',
  }),
  option('max_task_failures', 'integer', 'Workers that may fail a task before it fails.', {
    default: 3,
  }),
  option('blocklist_threshold', 'integer', "Failures on a job's task type that block a worker.", {
    default: 3,
  }),
  option(
    'blocklist_forgive_time',
    'duration',
    'A blocklisted worker may try the job again after this long (0: never).',
    { default: '1h' },
  ),
  option(
    'duty_interval',
    'duration',
    'How often the timeout, sleep-schedule and repair duties run.',
    { default: '10s' },
  ),
  option(
    'worker_cleanup_age',
    'duration',
    'Offline workers are removed after this long (0: never).',
    {
      default: '30d',
    },
  ),
  option('job_archive_age', 'duration', 'Finished jobs are archived after this long (0: never).', {
    default: 0,
  }),
  option(
    'file_gc_age',
    'duration',
    'Uploaded files no checkout uses are deleted after this long unused (0: never).',
    { default: '7d' },
  ),
  option(
    'checkout_age',
    'duration',
    'File-store checkouts are removed after this long (0: never).',
    {
      default: 0,
    },
  ),
  option('failure_threshold_percent', 'integer', 'Failed tasks (%) that fail the whole job.', {
    default: 10,
  }),
  option(
    'registration_secret',
    'string',
    'Secret workers need to register. Unset: generated on first run into <data_dir>.',
  ),
  option(
    'access_token_key',
    'string',
    'Key that signs short-lived access tokens (JWT). Unset: generated on first run into the database.',
  ),
  option('body_limit', 'size', 'Largest JSON request body.', { default: '1mb' }),
  option(
    'smtp_url',
    'string',
    'SMTP server for e-mail notifications: smtp://user:password@host:587 or smtps://...',
  ),
  option('smtp_from', 'string', 'Sender address of notification e-mails.', {
    default: 'Farm <farm@localhost>',
  }),
  option(
    'notification_retry_base',
    'duration',
    'First retry delay of a failed notification; doubles with each attempt (at most 1h).',
    { default: '10s' },
  ),
  option('notification_max_attempts', 'integer', 'Attempts before a notification is given up.', {
    default: 8,
  }),
  option('variables', 'json', 'Variables per platform and audience (FARM_VARIABLES: JSON).', {
    flag: undefined,
  }),
];

/** The flag that names the config file, and its environment variable. */
export const CONFIG_FILE_FLAG = '--config';
export const CONFIG_FILE_ENV = 'FARM_CONFIG';
/** The config file looked for in the data folder when none is named. */
export const CONFIG_FILE_NAME = 'farm-manager.yaml';
