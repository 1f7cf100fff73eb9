import os from 'node:os';
import path from 'node:path';
import { validationError, type ValidationIssue } from '@farm/core';

/** Everything the worker daemon and the self-test need, resolved and validated. */
export interface WorkerConfig {
  /** The manager's base URL (`http://host:port`); undefined when it is to be discovered. */
  managerUrl?: string;
  name: string;
  /** Absolute; holds credentials, the outbox and the work folder. */
  dataDir: string;
  /** Absolute; the working directory of commands that name none. */
  workDir: string;
  registrationSecret?: string;
  taskTypes: string[];
  tags: string[];
  /** Exit code after a `restart` request, for a supervisor that restarts on it. */
  restartExitCode: number;
  /** Look for the manager with mDNS when no URL is given. */
  discovery: boolean;
  /** Run the self-test instead of the daemon. */
  test: boolean;
  help: boolean;
  version: boolean;
}

type OptionKind = 'string' | 'list' | 'integer' | 'boolean';

interface WorkerOption {
  key: keyof WorkerConfig | 'manager' | 'config';
  flag: string;
  env: string;
  /** The key in a `farm-worker.yaml` file; undefined for flags that only make sense on a command line. */
  fileKey?: string;
  kind: OptionKind;
  description: string;
  defaultText?: string;
}

/** Every flag of `farm-worker`, its environment variable and its file key (for help and docs). */
export const WORKER_OPTIONS: readonly WorkerOption[] = [
  {
    key: 'manager',
    flag: '--manager',
    env: 'FARM_MANAGER_URL',
    fileKey: 'manager',
    kind: 'string',
    description: 'The manager URL; `host:port` means http. Unset: find it with mDNS.',
  },
  {
    key: 'name',
    flag: '--name',
    env: 'FARM_WORKER_NAME',
    fileKey: 'name',
    kind: 'string',
    description: 'The worker name shown in the manager.',
    defaultText: 'the host name',
  },
  {
    key: 'dataDir',
    flag: '--data-dir',
    env: 'FARM_WORKER_DATA_DIR',
    fileKey: 'data_dir',
    kind: 'string',
    description: 'Credentials, the outbox of unsent updates, the work folder.',
    defaultText: './farm-worker-data',
  },
  {
    key: 'workDir',
    flag: '--work-dir',
    env: 'FARM_WORKER_WORK_DIR',
    fileKey: 'work_dir',
    kind: 'string',
    description: 'Working directory of commands that name none.',
    defaultText: '<data-dir>/work',
  },
  {
    key: 'registrationSecret',
    flag: '--registration-secret',
    env: 'FARM_REGISTRATION_SECRET',
    fileKey: 'registration_secret',
    kind: 'string',
    description: "The farm's registration secret; needed only for the first start.",
  },
  {
    key: 'taskTypes',
    flag: '--task-types',
    env: 'FARM_WORKER_TASK_TYPES',
    fileKey: 'task_types',
    kind: 'list',
    description: 'Comma-separated task types this worker runs.',
    defaultText: 'blender,ffmpeg,file-management,misc',
  },
  {
    key: 'tags',
    flag: '--tags',
    env: 'FARM_WORKER_TAGS',
    fileKey: 'tags',
    kind: 'list',
    description: 'Comma-separated tags (jobs can require tags).',
  },
  {
    key: 'restartExitCode',
    flag: '--restart-exit-code',
    env: 'FARM_WORKER_RESTART_EXIT_CODE',
    fileKey: 'restart_exit_code',
    kind: 'integer',
    description: 'Exit code after a restart request, for systemd or docker to restart on.',
    defaultText: '75',
  },
  {
    key: 'discovery',
    flag: '--discovery',
    env: 'FARM_WORKER_DISCOVERY',
    fileKey: 'discovery',
    kind: 'boolean',
    description: 'Find the manager with mDNS when no URL is given (`--no-discovery` to turn off).',
    defaultText: 'on',
  },
  {
    key: 'test',
    flag: '--test',
    env: 'FARM_WORKER_TEST',
    kind: 'boolean',
    description: 'Run the self-test: try every command, print what works, exit.',
  },
  {
    key: 'config',
    flag: '--config',
    env: 'FARM_WORKER_CONFIG',
    kind: 'string',
    description: 'A YAML file with the keys above (snake_case); flags and env vars win over it.',
    defaultText: './farm-worker.yaml when it exists',
  },
  {
    key: 'help',
    flag: '--help',
    env: 'FARM_WORKER_HELP',
    kind: 'boolean',
    description: 'Show this help.',
  },
  {
    key: 'version',
    flag: '--version',
    env: 'FARM_WORKER_VERSION',
    kind: 'boolean',
    description: 'Print the version.',
  },
];

export const DEFAULT_TASK_TYPES: readonly string[] = [
  'blender',
  'ffmpeg',
  'file-management',
  'misc',
];
export const DEFAULT_RESTART_EXIT_CODE = 75;

export interface ResolveWorkerConfigInput {
  /** Command-line arguments after the program name. */
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  /** The parsed config file, if any; its keys are the `fileKey`s of `WORKER_OPTIONS`. */
  file?: Readonly<Record<string, unknown>>;
  /** Resolves relative paths; the process's working directory by default. */
  cwd?: string;
  hostname?: string;
}

type Raw = string | boolean | string[] | number;

/**
 * Resolves the worker configuration: flags win over `FARM_*` environment variables, which win
 * over the config file, which wins over the defaults.
 *
 * @throws FarmError `validation_failed` listing every problem at once.
 */
export function resolveWorkerConfig(input: ResolveWorkerConfigInput = {}): WorkerConfig {
  const issues: ValidationIssue[] = [];
  const fromArgv = parseArgv(input.argv ?? [], issues);
  const fromEnv = readEnv(input.env ?? {}, issues);
  const fromFile = readFile(input.file ?? {}, issues);
  const pick = (key: WorkerOption['key']): Raw | undefined =>
    fromArgv.get(key) ?? fromEnv.get(key) ?? fromFile.get(key);
  const cwd = input.cwd ?? process.cwd();

  const managerUrl = normaliseManagerUrl(pick('manager'), issues);
  const name = asString(pick('name'))?.trim() || (input.hostname ?? os.hostname());
  if (name.length > 200) issues.push({ path: 'name', message: 'must be at most 200 characters' });
  const dataDir = path.resolve(cwd, asString(pick('dataDir')) || './farm-worker-data');
  const workDirRaw = asString(pick('workDir'));
  const workDir = workDirRaw ? path.resolve(cwd, workDirRaw) : path.join(dataDir, 'work');
  const secret = asString(pick('registrationSecret')) || undefined;

  const taskTypes = normaliseList(pick('taskTypes'), 'taskTypes', 100, issues, true) ?? [
    ...DEFAULT_TASK_TYPES,
  ];
  if (taskTypes.length === 0)
    issues.push({ path: 'taskTypes', message: 'must name at least one task type' });
  const tags = normaliseList(pick('tags'), 'tags', 64, issues, false) ?? [];

  const restartExitCode = asInteger(pick('restartExitCode'), 'restartExitCode', issues);
  if (restartExitCode !== undefined && (restartExitCode < 1 || restartExitCode > 255))
    issues.push({ path: 'restartExitCode', message: 'must be between 1 and 255' });

  const discovery = asBoolean(pick('discovery')) ?? true;
  const test = asBoolean(pick('test')) ?? false;
  const help = asBoolean(pick('help')) ?? false;
  const version = asBoolean(pick('version')) ?? false;
  if (
    managerUrl === undefined &&
    !discovery &&
    !test &&
    !help &&
    !version &&
    !issues.some((i) => i.path === 'manager')
  )
    issues.push({
      path: 'manager',
      message: 'no manager: give --manager URL (FARM_MANAGER_URL) or turn discovery on',
    });

  if (issues.length > 0) {
    const list = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw validationError(`invalid worker configuration: ${list}`, issues);
  }
  return {
    managerUrl,
    name,
    dataDir,
    workDir,
    registrationSecret: secret,
    taskTypes,
    tags,
    restartExitCode: restartExitCode ?? DEFAULT_RESTART_EXIT_CODE,
    discovery,
    test,
    help,
    version,
  };
}

/** The path of the config file named by `--config` / `FARM_WORKER_CONFIG`, if any. */
export function configFileArgument(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const parsed = parseArgv(argv, []);
  return asString(parsed.get('config')) ?? (env.FARM_WORKER_CONFIG || undefined);
}

/** The `--help` text: every flag with its environment variable and default. */
export function formatWorkerHelp(): string {
  const rows = WORKER_OPTIONS.map((o) => {
    const flag = o.kind === 'boolean' || o.flag === '--help' ? o.flag : `${o.flag} <value>`;
    const def = o.defaultText ? ` (default: ${o.defaultText})` : '';
    return `  ${flag.padEnd(32)} ${o.description}${def}\n  ${''.padEnd(32)} env ${o.env}`;
  });
  return `Usage: farm-worker [options]\n\nRuns a Farm worker: finds the manager, takes tasks, runs them.\n\nOptions:\n${rows.join('\n')}\n`;
}

function parseArgv(argv: readonly string[], issues: ValidationIssue[]): Map<string, Raw> {
  const out = new Map<string, Raw>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      issues.push({ path: arg, message: 'unexpected argument (options start with --)' });
      continue;
    }
    const eq = arg.indexOf('=');
    let flag = eq === -1 ? arg : arg.slice(0, eq);
    let inline: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    let negated = false;
    if (flag.startsWith('--no-')) {
      negated = true;
      flag = `--${flag.slice(5)}`;
    }
    const option = WORKER_OPTIONS.find((o) => o.flag === flag);
    if (option === undefined) {
      issues.push({ path: arg, message: 'unknown option (see --help)' });
      continue;
    }
    if (option.kind === 'boolean') {
      if (inline !== undefined) {
        const value = parseBoolean(inline);
        if (value === undefined) issues.push({ path: flag, message: 'must be true or false' });
        else out.set(option.key, negated ? !value : value);
      } else out.set(option.key, !negated);
      continue;
    }
    if (negated) {
      issues.push({ path: arg, message: 'unknown option (see --help)' });
      continue;
    }
    if (inline === undefined) {
      inline = argv[i + 1];
      if (inline === undefined || inline.startsWith('--')) {
        issues.push({ path: flag, message: 'needs a value' });
        continue;
      }
      i++;
    }
    out.set(option.key, inline);
  }
  return out;
}

function readEnv(
  env: Readonly<Record<string, string | undefined>>,
  issues: ValidationIssue[],
): Map<string, Raw> {
  const out = new Map<string, Raw>();
  for (const option of WORKER_OPTIONS) {
    const value = env[option.env];
    if (value === undefined || value === '') continue;
    if (option.kind === 'boolean') {
      const parsed = parseBoolean(value);
      if (parsed === undefined) issues.push({ path: option.env, message: 'must be true or false' });
      else out.set(option.key, parsed);
    } else out.set(option.key, value);
  }
  return out;
}

function readFile(
  file: Readonly<Record<string, unknown>>,
  issues: ValidationIssue[],
): Map<string, Raw> {
  const out = new Map<string, Raw>();
  for (const [key, value] of Object.entries(file)) {
    const option = WORKER_OPTIONS.find((o) => o.fileKey === key);
    if (option === undefined) {
      issues.push({ path: `file.${key}`, message: 'unknown key' });
      continue;
    }
    if (value === null || value === undefined) continue;
    const ok =
      (option.kind === 'boolean' && typeof value === 'boolean') ||
      (option.kind === 'integer' && typeof value === 'number') ||
      (option.kind === 'list' &&
        (typeof value === 'string' ||
          (Array.isArray(value) && value.every((v) => typeof v === 'string')))) ||
      (option.kind === 'string' && typeof value === 'string');
    if (!ok) {
      issues.push({ path: `file.${key}`, message: `must be a ${option.kind}` });
      continue;
    }
    out.set(option.key, value);
  }
  return out;
}

function normaliseManagerUrl(raw: Raw | undefined, issues: ValidationIssue[]): string | undefined {
  const text = asString(raw)?.trim();
  if (!text) return undefined;
  // A bare `host:port` (as people type it) means plain http, as Flamenco's workers accept too.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    issues.push({ path: 'manager', message: `${JSON.stringify(text)} is not a URL` });
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    issues.push({ path: 'manager', message: 'must be an http:// or https:// URL' });
    return undefined;
  }
  if (url.search || url.hash) {
    issues.push({ path: 'manager', message: 'must not have a query or fragment' });
    return undefined;
  }
  return url.toString().replace(/\/+$/, '');
}

function normaliseList(
  raw: Raw | undefined,
  name: string,
  maxLength: number,
  issues: ValidationIssue[],
  lowerCase: boolean,
): string[] | undefined {
  if (raw === undefined) return undefined;
  const items = Array.isArray(raw) ? raw : String(raw).split(',');
  const out: string[] = [];
  for (const item of items) {
    let value = item.trim();
    if (lowerCase) value = value.toLowerCase();
    if (value === '') continue;
    if (value.length > maxLength)
      issues.push({ path: name, message: `${JSON.stringify(value)} is longer than ${maxLength}` });
    else if (!out.includes(value)) out.push(value);
  }
  if (out.length > 100) issues.push({ path: name, message: 'at most 100 entries' });
  return out;
}

function asString(raw: Raw | undefined): string | undefined {
  return raw === undefined ? undefined : Array.isArray(raw) ? raw.join(',') : String(raw);
}

function asInteger(
  raw: Raw | undefined,
  name: string,
  issues: ValidationIssue[],
): number | undefined {
  if (raw === undefined) return undefined;
  const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isInteger(value)) {
    issues.push({ path: name, message: 'must be a whole number' });
    return undefined;
  }
  return value;
}

function asBoolean(raw: Raw | undefined): boolean | undefined {
  return typeof raw === 'boolean' ? raw : undefined;
}

function parseBoolean(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  return undefined;
}
