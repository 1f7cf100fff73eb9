import { validationError, type ValidationIssue } from '@farm/core';
import Ajv from 'ajv';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  CONFIG_FILE_ENV,
  CONFIG_FILE_FLAG,
  CONFIG_FILE_NAME,
  CONFIG_OPTIONS,
  type ConfigOption,
} from './config-options';
import { CONFIG_FORMATS, CONFIG_SCHEMA } from './config-schema';
import { parseByteSize, parseDuration } from './parse-duration';

/** One value of a variable, as in the config file. */
export interface ConfigVariableValue {
  platform?: string;
  platforms?: string[];
  audience?: 'all' | 'users' | 'workers';
  value: string;
}

/** The `variables` section: name to definition. Core validates and applies it. */
export type ConfigVariables = Record<
  string,
  { is_twoway?: boolean; values: ConfigVariableValue[] }
>;

export type LogLevel = 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug' | 'silly';
export type LogFormat = 'auto' | 'json' | 'pretty';

/** The manager's configuration after layering, validation and normalisation. Frozen. */
export interface ResolvedConfig {
  port: number;
  host: string;
  /** Absolute. */
  dataDir: string;
  /** Unset: the embedded PGlite database in `<dataDir>/db`. */
  databaseUrl: string | undefined;
  /** Absolute. */
  jobTypesDir: string;
  /** Absolute. */
  storageDir: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  discovery: boolean;
  localWorker: boolean;
  taskTimeoutMs: number;
  workerTimeoutMs: number;
  maxTaskFailures: number;
  blocklistThreshold: number;
  failureThresholdPercent: number;
  /** How long a blocklist entry lasts; 0: for the job's life. */
  blocklistForgiveTimeMs: number;
  /** How often the periodic duties (timeouts, sleep schedules, repair) run. */
  dutyIntervalMs: number;
  /** Offline workers are removed after this long; 0: never. */
  workerCleanupAgeMs: number;
  /** Finished jobs are archived (task rows and logs removed) after this long; 0: never. */
  jobArchiveAgeMs: number;
  /** Stored files that no checkout uses are deleted once unused this long; 0: never. */
  fileGcAgeMs: number;
  /** File-store checkouts are removed this long after they were made; 0: never. */
  checkoutAgeMs: number;
  /** Unset: see `loadOrCreateRegistrationSecret`. */
  registrationSecret: string | undefined;
  /** Signs access tokens (JWT); unset: generated once and kept in the database. Never log it. */
  accessTokenKey: string | undefined;
  bodyLimitBytes: number;
  /** SMTP server URL for e-mail notifications (holds credentials: never log it); unset: no e-mail. */
  smtpUrl: string | undefined;
  smtpFrom: string;
  /** The first retry delay of a failed notification; it doubles per attempt, capped at 1 h. */
  notificationRetryBaseMs: number;
  notificationMaxAttempts: number;
  variables: ConfigVariables;
  /** The config file that was read, if any (absolute). */
  configFile: string | undefined;
}

/** Inputs of `resolveConfig`. */
export interface ResolveConfigOptions {
  /** Command-line flags (no program name, no subcommand): `['--port', '9000', '--no-discovery']`. */
  argv?: readonly string[];
  /** @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** A config file to read; wins over `--config` and `FARM_CONFIG`. */
  file?: string;
  /** Base of relative paths given in env vars and flags. @default process.cwd() */
  cwd?: string;
}

type Layer = Record<string, unknown>;
type Source = { label: (key: string) => string; values: Layer };

interface AjvError {
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  instancePath?: string;
  dataPath?: string;
}
interface AjvValidate {
  (data: unknown): boolean | PromiseLike<unknown>;
  errors?: AjvError[] | null;
}

// Typed structurally so the code works with ajv 6 and 8 alike (see the report in the ADR).
function createValidator(coerceTypes: boolean): AjvValidate {
  const AjvClass = Ajv as unknown as new (options: object) => {
    addFormat(name: string, format: RegExp): unknown;
    compile(schema: object): AjvValidate;
  };
  const ajv = new AjvClass({ allErrors: true, coerceTypes, strict: false });
  for (const [name, pattern] of Object.entries(CONFIG_FORMATS)) ajv.addFormat(name, pattern);
  return ajv.compile(CONFIG_SCHEMA);
}

let validators: { strict: AjvValidate; coercing: AjvValidate } | undefined;

const OPTIONS_BY_KEY = new Map(CONFIG_OPTIONS.map((option) => [option.key, option]));
const OPTIONS_BY_FLAG = new Map(
  CONFIG_OPTIONS.filter((option) => option.flag).map((option) => [option.flag as string, option]),
);

function friendlyMessage(error: AjvError): string {
  const { keyword, params } = error;
  if (keyword === 'type') {
    const types = String(params.type).split(',');
    if (types.includes('integer') && types.includes('string')) {
      return 'must be a number or a string';
    }
    return types[0] === 'integer' ? 'must be an integer' : `must be a ${types.join(' or ')}`;
  }
  if (keyword === 'enum') {
    return `must be one of: ${(params.allowedValues as unknown[]).join(', ')}`;
  }
  if (keyword === 'format' && params.format === 'farm-duration') {
    return 'must be a duration such as 30s, 10m or 1h, or a number of milliseconds';
  }
  if (keyword === 'format' && params.format === 'farm-byte-size') {
    return 'must be a size such as 512kb or 1mb, or a number of bytes';
  }
  if (keyword === 'pattern' && String(params.pattern).includes('postgres')) {
    return 'must be a postgres:// or postgresql:// URL';
  }
  if (keyword === 'minimum' || keyword === 'maximum') {
    return `must be ${keyword === 'minimum' ? '>=' : '<='} ${String(params.limit)}`;
  }
  if (keyword === 'additionalProperties') return 'is not a known setting';
  if (keyword === 'minLength' && params.limit === 1) return 'must not be empty';
  if (keyword === 'minLength') return `must be at least ${String(params.limit)} characters`;
  return error.message ?? keyword;
}

/** `['variables', 'blender', 'values', '0']` from an ajv 8 instancePath or an ajv 6 dataPath. */
function errorPath(error: AjvError): string[] {
  const parts =
    error.instancePath !== undefined
      ? error.instancePath
          .split('/')
          .slice(1)
          .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      : [...(error.dataPath ?? '').matchAll(/\.([^.[]+)|\[(\d+)\]|\['([^']*)'\]/g)].map(
          (m) => (m[1] ?? m[2] ?? m[3]) as string,
        );
  if (error.keyword === 'additionalProperties') {
    parts.push(String(error.params.additionalProperty));
  }
  if (error.keyword === 'required') parts.push(String(error.params.missingProperty));
  return parts;
}

function joinPath(parts: readonly string[]): string {
  return parts
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i ? `.${part}` : part))
    .join('');
}

function validateLayer(source: Source, coerce: boolean, issues: ValidationIssue[]): void {
  validators ??= { strict: createValidator(false), coercing: createValidator(true) };
  const validate = coerce ? validators.coercing : validators.strict;
  if (validate(source.values) === true) return;
  for (const error of validate.errors ?? []) {
    const [key = '', ...rest] = errorPath(error);
    const message = error.keyword === 'required' ? 'is required' : friendlyMessage(error);
    const where = source.label(key);
    issues.push({ path: rest.length ? `${where}: ${joinPath(rest)}` : where, message });
  }
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** Turns a string from env or argv into what the schema expects; ajv coerces the rest. */
function fromText(option: ConfigOption, text: string, where: string, issues: ValidationIssue[]) {
  if (option.kind === 'boolean') {
    const word = text.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return text;
  }
  if (option.kind === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      issues.push({ path: where, message: `must be JSON: ${(error as Error).message}` });
      return undefined;
    }
  }
  return text;
}

function envLayer(env: ResolveConfigOptions['env'] & object, issues: ValidationIssue[]): Source {
  const values: Layer = {};
  const names: Record<string, string> = {};
  for (const option of CONFIG_OPTIONS) {
    const name = option.env.find((candidate) => env[candidate] !== undefined);
    if (name === undefined) continue;
    const text = env[name] as string;
    // An empty variable means unset (`DATABASE_URL=` picks the embedded database).
    if (text === '') continue;
    const value = fromText(option, text, `env ${name}`, issues);
    if (value !== undefined) values[option.key] = value;
    names[option.key] = name;
  }
  return { values, label: (key) => `env ${names[key] ?? key}` };
}

interface ParsedArgv {
  layer: Source;
  configFile: string | undefined;
}

function argvLayer(argv: readonly string[], issues: ValidationIssue[]): ParsedArgv {
  const values: Layer = {};
  const flags: Record<string, string> = {};
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      issues.push({ path: `argument ${arg}`, message: 'is not a flag (flags start with --)' });
      continue;
    }
    const eq = arg.indexOf('=');
    let flag = eq === -1 ? arg : arg.slice(0, eq);
    let text: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    let negated = false;
    if (!OPTIONS_BY_FLAG.has(flag) && flag.startsWith('--no-')) {
      negated = true;
      flag = `--${flag.slice(5)}`;
    }
    const option = OPTIONS_BY_FLAG.get(flag);
    if (flag === CONFIG_FILE_FLAG && !negated) {
      configFile = text ?? argv[++i];
      if (configFile === undefined) issues.push({ path: `flag ${flag}`, message: 'needs a value' });
      continue;
    }
    if (!option || (negated && option.kind !== 'boolean')) {
      issues.push({ path: `flag ${arg}`, message: 'is not a known flag' });
      continue;
    }
    if (option.kind === 'boolean' && text === undefined) {
      values[option.key] = !negated;
    } else {
      text ??= argv[++i];
      if (text === undefined || (eq === -1 && text.startsWith('--'))) {
        issues.push({ path: `flag ${flag}`, message: 'needs a value' });
        if (text !== undefined) i--;
        continue;
      }
      const value = fromText(option, text, `flag ${flag}`, issues);
      if (value !== undefined) values[option.key] = value;
    }
    flags[option.key] = flag;
  }
  return { layer: { values, label: (key) => `flag ${flags[key] ?? `--${key}`}` }, configFile };
}

function fileLayer(file: string, required: boolean, issues: ValidationIssue[]): Source | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    issues.push({ path: `file ${file}`, message: `cannot be read: ${(error as Error).message}` });
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    issues.push({
      path: `file ${file}`,
      message: `is not valid YAML: ${(error as Error).message}`,
    });
    return undefined;
  }
  if (parsed === null || parsed === undefined) parsed = {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    issues.push({ path: `file ${file}`, message: 'must be a mapping of settings' });
    return undefined;
  }
  return { values: parsed as Layer, label: (key) => `file ${file}: ${key}` };
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * The manager's configuration: defaults, then the YAML file (`--config`, `FARM_CONFIG`, or
 * `<data_dir>/farm-manager.yaml` when present), then `FARM_*` environment variables, then flags.
 * Relative paths in the file are relative to the file; elsewhere to `cwd`.
 *
 * @throws FarmError `validation_failed` listing every problem with its source, such as
 * `env FARM_PORT: must be an integer`.
 */
export function resolveConfig(options: ResolveConfigOptions = {}): Readonly<ResolvedConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const issues: ValidationIssue[] = [];

  const fromEnv = envLayer(env, issues);
  const fromArgv = argvLayer(options.argv ?? [], issues);
  validateLayer(fromEnv, true, issues);
  validateLayer(fromArgv.layer, true, issues);

  // The data folder (where the default config file lives) comes from flags, env or the default.
  const earlyDataDir = path.resolve(
    cwd,
    (fromArgv.layer.values.data_dir ?? fromEnv.values.data_dir ?? './farm-data') as string,
  );
  const namedFile = options.file ?? fromArgv.configFile ?? env[CONFIG_FILE_ENV] ?? undefined;
  const configFile = path.resolve(cwd, namedFile || path.join(earlyDataDir, CONFIG_FILE_NAME));
  const fromFile = fileLayer(configFile, Boolean(namedFile), issues);
  if (fromFile) validateLayer(fromFile, false, issues);

  if (issues.length > 0) {
    throw validationError(
      `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n'),
      issues,
    );
  }

  const fileValues = fromFile?.values ?? {};
  const fileDir = path.dirname(configFile);
  const merged: Layer = { ...fileValues, ...fromEnv.values, ...fromArgv.layer.values };
  const pathFrom = (key: string, fallback: () => string): string => {
    const value = merged[key];
    if (value === undefined) return fallback();
    const base = key in fromArgv.layer.values || key in fromEnv.values ? cwd : fileDir;
    return path.resolve(base, value as string);
  };
  const pick = <T>(key: string): T => (merged[key] ?? OPTIONS_BY_KEY.get(key)?.default) as T;

  const dataDir = pathFrom('data_dir', () => path.resolve(cwd, './farm-data'));
  const config: ResolvedConfig = {
    port: Number(pick('port')),
    host: pick('host'),
    dataDir,
    databaseUrl: pick<string | undefined>('database_url'),
    jobTypesDir: pathFrom('job_types_dir', () => path.join(dataDir, 'job-types')),
    storageDir: pathFrom('storage_dir', () => path.join(dataDir, 'storage')),
    logLevel: pick('log_level'),
    logFormat: pick('log_format'),
    discovery: pick('discovery'),
    localWorker: pick('local_worker'),
    taskTimeoutMs: parseDuration(pick<string | number>('task_timeout')) as number,
    workerTimeoutMs: parseDuration(pick<string | number>('worker_timeout')) as number,
    maxTaskFailures: Number(pick('max_task_failures')),
    blocklistThreshold: Number(pick('blocklist_threshold')),
    failureThresholdPercent: Number(pick('failure_threshold_percent')),
    blocklistForgiveTimeMs: parseDuration(
      pick<string | number>('blocklist_forgive_time'),
    ) as number,
    dutyIntervalMs: parseDuration(pick<string | number>('duty_interval')) as number,
    workerCleanupAgeMs: parseDuration(pick<string | number>('worker_cleanup_age')) as number,
    jobArchiveAgeMs: parseDuration(pick<string | number>('job_archive_age')) as number,
    fileGcAgeMs: parseDuration(pick<string | number>('file_gc_age')) as number,
    checkoutAgeMs: parseDuration(pick<string | number>('checkout_age')) as number,
    registrationSecret: pick<string | undefined>('registration_secret'),
    accessTokenKey: pick<string | undefined>('access_token_key'),
    bodyLimitBytes: parseByteSize(pick<string | number>('body_limit')) as number,
    smtpUrl: pick<string | undefined>('smtp_url'),
    smtpFrom: pick('smtp_from'),
    notificationRetryBaseMs: parseDuration(
      pick<string | number>('notification_retry_base'),
    ) as number,
    notificationMaxAttempts: Number(pick('notification_max_attempts')),
    variables: structuredClone(pick<ConfigVariables | undefined>('variables') ?? {}),
    configFile: fromFile ? configFile : undefined,
  };
  return deepFreeze(config);
}
