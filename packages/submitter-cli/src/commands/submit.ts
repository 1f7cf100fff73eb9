import type { Command } from 'commander';
import {
  isFarmError,
  replaceTwoWayVariables,
  validateJobSettings,
  validateSchema,
  type ApiSubmittedJob,
  type FarmClient,
  type JobSetting,
  type ResolvedVariables,
  type ValidationIssue,
} from '@farm/core';
import { unwrapCall, type CliContext } from '../context';
import { CliExit, EXIT_CODES } from '../exit-codes';
import { formatIssue } from '../report-error';
import { parseAssignments, parseSetValues } from '../settings/parse-set-values';
import { readSettingsFile } from '../settings/read-settings-file';
import { watchJob } from '../live/watch-job';
import { fetchJobType } from './job-types';
import { addExamples, collect, collectList, parseIntOption } from './command-helpers';
import { runUpload } from './upload';
import { pointSettingsAtCheckout } from '../upload/checkout-settings';

interface SubmitOptions {
  set?: string[];
  settings?: string;
  name?: string;
  priority?: number;
  project?: string;
  tag?: string[];
  paused?: boolean;
  notBefore?: string;
  meta?: string[];
  maxWorkers?: number;
  watch?: boolean;
  json?: boolean;
  upload?: string;
  uploadName?: string;
  after?: string[];
}

/** `farm submit TYPE ...`. */
export function registerSubmitCommand(program: Command, ctx: CliContext): void {
  addExamples(
    program
      .command('submit')
      .description(
        'submit a job: settings are checked against the job type first, and local paths become {variables}',
      )
      .argument('<type>', 'the job type, e.g. simple-blender-render (see farm job-types)')
      .option(
        '-s, --set <key=value>',
        'a setting, typed as the job type declares it (repeatable)',
        collect,
      )
      .option('-f, --settings <file>', 'settings from a .json or .yaml file (--set wins over it)')
      .option('-n, --name <name>', 'the job name (default: the type and the time)')
      .option(
        '-p, --priority <0-100>',
        'priority, higher runs first (default 50)',
        parseIntOption('--priority', 0, 100),
      )
      .option('--project <project>', 'the project name or id (default: your default project)')
      .option('--tag <tag>', 'only workers with this tag run the job (repeatable)', collect)
      .option('--paused', 'submit the job paused; start it with farm resume')
      .option(
        '--not-before <time>',
        'no task starts before this time (ISO 8601, e.g. 2026-12-01T22:00)',
      )
      .option('--meta <key=value>', 'a metadata label (repeatable)', collect)
      .option(
        '--max-workers <n>',
        'at most this many workers at once',
        parseIntOption('--max-workers', 1, 1_000_000),
      )
      .option(
        '--upload <folder>',
        "first upload this folder to the farm's file store; settings naming files in it then point at its checkout",
      )
      .option('--upload-name <name>', 'the checkout name for --upload (default: the folder name)')
      .option(
        '--after <job-id>',
        'wait (status waiting) until this job completed (repeatable, comma-separated)',
        collectList,
      )
      .option('-w, --watch', 'then follow the job to its end (exit code as farm watch)')
      .option('--json', 'print the stored job as JSON instead of its id')
      .action(async (type: string, options: SubmitOptions, command: Command) => {
        const client = ctx.client(command);
        const job = await submit(ctx, client, type, options, command);
        if (options.json) ctx.printJson(job);
        else ctx.print(job.id);
        if (options.watch) {
          const { url, token } = ctx.connection(command);
          await watchJob(ctx, client, { url, token: token ?? '' }, job.id);
        }
      }),
    [
      'farm submit echo-sleep-test --set message=hello --set sleep_repeats=3',
      'farm submit simple-blender-render --settings shot010.yaml --set frames=1-250 --priority 70 --watch',
      'farm submit ffmpeg-encode -f encode.json --project "Spring" --tag gpu --meta shot=010 --paused',
      'JOB=$(farm submit echo-sleep-test --set message=hi) && farm watch "$JOB"',
      'farm submit ffmpeg-encode -f encode.json --after "$RENDER_JOB"',
      'farm submit simple-blender-render --upload ./shot010 --set blendfile=shot.blend --set frames=1-50 --set render_output_root=/render',
    ],
  );
}

async function submit(
  ctx: CliContext,
  client: FarmClient,
  type: string,
  options: SubmitOptions,
  command: Command,
): Promise<Awaited<ReturnType<FarmClient['submitJob']>>> {
  const fromFile = options.settings ? readSettingsFile(options.settings) : {};
  const jobType = await fetchJobType(client, type);
  const declared = jobType.settings as JobSetting[];
  const issues: ValidationIssue[] = [];

  const fromSet = parseSetValues(declared, options.set ?? []);
  issues.push(...fromSet.issues);
  const settings = { ...fromFile, ...fromSet.settings };
  const checked = validateJobSettings(declared, settings);
  // A --set value that could not be typed is reported once, not again as "is required".
  const reported = new Set(fromSet.issues.map((issue) => issue.path));
  issues.push(...checked.issues.filter((issue) => !reported.has(issue.path)));

  const meta = parseAssignments(options.meta ?? [], '--meta');
  issues.push(...meta.issues);
  let notBefore: string | undefined;
  if (options.notBefore !== undefined) {
    const time = Date.parse(options.notBefore);
    if (Number.isNaN(time)) {
      issues.push({
        path: '--not-before',
        message: `is not a time: ${JSON.stringify(options.notBefore)}`,
      });
    } else {
      notBefore = new Date(time).toISOString();
    }
  }

  const body: ApiSubmittedJob = {
    name: options.name ?? defaultJobName(type, ctx.io.now()),
    type,
    typeEtag: jobType.etag,
    settings,
    submitterPlatform: platformOf(ctx.io.platform),
    ...(options.priority !== undefined ? { priority: options.priority } : {}),
    ...(meta.entries.length > 0 ? { metadata: Object.fromEntries(meta.entries) } : {}),
    ...(options.project ? { project: options.project } : {}),
    ...(options.tag?.length ? { requiredTags: options.tag } : {}),
    ...(options.paused ? { initialStatus: 'paused' as const } : {}),
    ...(notBefore ? { notBefore } : {}),
    ...(options.maxWorkers !== undefined ? { maxWorkers: options.maxWorkers } : {}),
    ...(options.after?.length ? { dependsOnJobs: [...new Set(options.after)] } : {}),
  };
  // The settings were checked above against the job type; the schema checks the rest.
  const schema = validateSchema('SubmittedJob', { ...structuredClone(body), settings: {} });
  if (!schema.ok)
    issues.push(...schema.issues.map((issue) => ({ ...issue, path: fieldName(issue.path) })));

  if (issues.length > 0) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    throw new CliExit(
      EXIT_CODES.invalidInput,
      `the job is invalid (${count}); nothing was submitted:\n${issues.map((issue) => `  - ${formatIssue(issue)}`).join('\n')}`,
      { details: { issues } },
    );
  }
  for (const warning of checked.warnings) ctx.note(`warning: ${warning}`);

  if (options.upload !== undefined) {
    const uploaded = await runUpload(ctx, command, options.upload, {
      ...(options.uploadName ? { name: options.uploadName } : {}),
    });
    const pointed = pointSettingsAtCheckout(settings, options.upload, uploaded.checkout.path);
    Object.assign(settings, pointed.settings);
    for (const r of pointed.replacements) ctx.note(`${r.key}: ${r.before} -> ${r.after}`);
    body.settings = settings;
  }

  const variables = await fetchUserVariables(ctx, client, body.submitterPlatform ?? 'linux');
  if (variables) {
    const replaced = replaceTwoWayVariables(settings, variables, {
      platform: body.submitterPlatform ?? 'linux',
      audience: 'users',
    });
    body.settings = replaced.value;
    for (const r of replaced.replacements) {
      ctx.note(`${r.pointer.slice(1)}: ${r.before} -> ${r.after}`);
    }
  }

  try {
    return await client.submitJob(body);
  } catch (error) {
    if (isFarmError(error) && error.code === 'job_type_stale') {
      throw new CliExit(
        EXIT_CODES.error,
        `the job type "${type}" changed on the manager while you were submitting, so nothing was submitted; run the same command again to check your settings against the new version (see farm job-types show ${type})`,
        { details: error.details },
      );
    }
    throw error;
  }
}

/** The variables the user sees on this platform, or undefined when the manager will not say. */
async function fetchUserVariables(
  ctx: CliContext,
  client: FarmClient,
  platform: 'linux' | 'windows' | 'darwin' | 'manager',
): Promise<ResolvedVariables | undefined> {
  if (platform === 'manager') return undefined;
  try {
    const answer = await unwrapCall(
      client.GET('/api/v1/variables/{audience}/{platform}', {
        params: { path: { audience: 'users', platform } },
      }),
    );
    const entries = Object.entries(answer.variables);
    return {
      names: entries.map(([name]) => name).sort(),
      warnings: [],
      lookup: () =>
        Object.fromEntries(
          entries.map(([name, v]) => [name, { value: v.value, isTwoWay: v.twoWay }]),
        ),
    };
  } catch (error) {
    // Paths stay as typed when the variables cannot be read (an older manager, a narrow token).
    if (isFarmError(error) && (error.code === 'not_found' || error.code === 'forbidden')) {
      ctx.note(
        `warning: cannot read the farm's variables (${error.message}); paths are sent as typed`,
      );
      return undefined;
    }
    throw error;
  }
}

/** Farm's name for a Node platform. */
export function platformOf(platform: NodeJS.Platform): 'linux' | 'windows' | 'darwin' {
  if (platform === 'win32') return 'windows';
  if (platform === 'darwin') return 'darwin';
  return 'linux';
}

function defaultJobName(type: string, now: number): string {
  const iso = new Date(now).toISOString();
  return `${type} ${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

// Schema paths are JSON pointers into the body (`/priority`); users know the options.
const OPTION_OF_FIELD: Record<string, string> = {
  name: '--name',
  priority: '--priority',
  project: '--project',
  requiredTags: '--tag',
  metadata: '--meta',
  notBefore: '--not-before',
  maxWorkers: '--max-workers',
};

function fieldName(path: string): string {
  const field = path.replace(/^\/?(body[./])?/, '').split(/[./]/)[0] ?? '';
  return OPTION_OF_FIELD[field] ?? (path || 'job');
}
