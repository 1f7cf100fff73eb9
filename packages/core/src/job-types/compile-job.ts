import { randomUUID } from 'node:crypto';
import { FarmError, validationError, type ValidationIssue } from '../errors';
import { checkCompiledTasks } from './check-compiled-tasks';
import { getJobTypeRuntime } from './create-job-type';
import type { CompileJobOptions, CompiledJob, JobType, SubmittedJob } from './job-type-types';
import { ScriptSandbox, scriptPlatform } from './script-sandbox';
import { validateJobSettings } from './validate-job-settings';

/** The most tasks one job may have unless `maxTasks` says otherwise. */
export const DEFAULT_MAX_TASKS = 1_000_000;
// A broken script can produce an issue per task; the error lists this many and counts the rest.
const MAX_LISTED_ISSUES = 1000;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function listed(issues: ValidationIssue[]): ValidationIssue[] {
  if (issues.length <= MAX_LISTED_ISSUES) return issues;
  return [
    ...issues.slice(0, MAX_LISTED_ISSUES),
    { path: '', message: `... and ${issues.length - MAX_LISTED_ISSUES} more problems` },
  ];
}

function checkJobFields(jobType: JobType, submitted: SubmittedJob): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (typeof submitted.name !== 'string' || submitted.name.trim() === '') {
    issues.push({ path: 'name', message: 'the job needs a name' });
  }
  if (typeof submitted.type !== 'string' || submitted.type.replace(/_/g, '-') !== jobType.name) {
    issues.push({
      path: 'type',
      message: `is ${JSON.stringify(submitted.type)}, but the job type being compiled is "${jobType.name}"`,
    });
  }
  const priority = submitted.priority;
  if (priority !== undefined && !(Number.isInteger(priority) && priority >= 0 && priority <= 100)) {
    issues.push({ path: 'priority', message: 'must be a whole number from 0 to 100' });
  }
  if (submitted.settings !== undefined && !isObject(submitted.settings)) {
    issues.push({ path: 'settings', message: 'must be an object' });
  }
  if (submitted.metadata !== undefined) {
    if (!isObject(submitted.metadata)) {
      issues.push({ path: 'metadata', message: 'must be an object of strings' });
    } else {
      for (const [key, value] of Object.entries(submitted.metadata)) {
        if (typeof value !== 'string')
          issues.push({ path: `metadata.${key}`, message: 'must be a string' });
      }
    }
  }
  return issues;
}

/**
 * Compiles a submitted job into tasks: checks the job-type etag, validates the settings and
 * applies their defaults, runs the script's `compileJob(job)` in a fresh sandbox, and checks
 * every task and command it produced.
 *
 * @throws FarmError `job_type_stale` when `typeEtag` is outdated; `validation_failed` listing
 *   every problem of the settings or of the produced tasks; `compile_failed` when the script
 *   throws or runs too long.
 * @example
 * const jt = loadJobType('echo-sleep-test');
 * compileJob(jt, { name: 'x', type: 'echo-sleep-test', settings: { message: 'hi' } }).tasks.length; // 2
 */
export function compileJob(
  jobType: JobType,
  submitted: SubmittedJob,
  options: CompileJobOptions = {},
): CompiledJob {
  const runtime = getJobTypeRuntime(jobType);
  if (!runtime) {
    throw new FarmError(
      'bad_request',
      'compileJob needs a job type from loadJobType or a job-type registry',
    );
  }
  if (!isObject(submitted)) throw new FarmError('bad_request', 'compileJob needs a job object');
  const { typeEtag } = submitted;
  if (typeEtag !== undefined && typeEtag !== '' && typeEtag !== jobType.etag) {
    throw new FarmError(
      'job_type_stale',
      `job type "${jobType.name}" changed since the submitter read it; refresh the job type and submit again`,
      { details: { jobType: jobType.name, expected: jobType.etag, received: typeEtag } },
    );
  }

  const jobIssues = checkJobFields(jobType, submitted);
  const settingsCheck = validateJobSettings(
    runtime.definition.settings,
    isObject(submitted.settings) ? submitted.settings : undefined,
  );
  const inputIssues = [...jobIssues, ...settingsCheck.issues];
  if (inputIssues.length > 0) {
    const what = jobIssues.length > 0 ? 'job is invalid' : 'job settings are invalid';
    throw validationError(`${what}: ${plural(inputIssues.length, 'problem')}`, listed(inputIssues));
  }

  const metadata = { ...(submitted.metadata ?? {}) };
  const priority = submitted.priority ?? 50;
  const sandbox = new ScriptSandbox(
    {
      platform: scriptPlatform(),
      cwd: options.cwd ?? process.cwd(),
      maxTasks: options.maxTasks ?? DEFAULT_MAX_TASKS,
      job: {
        id: options.jobId ?? randomUUID(),
        name: submitted.name,
        jobType: jobType.name,
        priority,
        createdMs: (options.created ?? new Date()).getTime(),
        settings: settingsCheck.settings,
        metadata,
      },
    },
    { timeoutMs: options.timeoutMs ?? runtime.timeoutMs },
  );
  const details = (): Record<string, unknown> => ({
    jobType: jobType.name,
    messages: sandbox.collectedMessages(),
  });
  let replyText: string;
  try {
    sandbox.run(runtime.script, 'the script');
    replyText = sandbox.compile();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new FarmError('compile_failed', message, { details: details() });
  }
  let reply: {
    ok?: unknown;
    error?: unknown;
    settings?: unknown;
    tasks?: unknown;
    dependencies?: unknown;
  };
  try {
    reply = JSON.parse(replyText) as typeof reply;
  } catch {
    throw new FarmError('compile_failed', 'the script produced a result that is not plain data', {
      details: details(),
    });
  }
  if (reply.ok !== true) {
    throw new FarmError(
      'compile_failed',
      typeof reply.error === 'string' ? reply.error : 'compileJob failed',
      {
        details: details(),
      },
    );
  }

  const check = checkCompiledTasks(reply.tasks, reply.dependencies);
  if (!isObject(reply.settings)) {
    check.issues.push({
      path: 'settings',
      message: 'the script replaced job.settings with something that is not an object',
    });
  }
  if (check.issues.length > 0) {
    throw validationError(
      `job type "${jobType.name}" produced invalid tasks: ${plural(check.issues.length, 'problem')}`,
      listed(check.issues),
    );
  }
  const settings = reply.settings as Record<string, unknown>;
  delete settings.__proto__;
  return {
    name: submitted.name,
    type: jobType.name,
    typeEtag: jobType.etag,
    priority,
    settings,
    metadata,
    tasks: check.tasks,
    messages: sandbox.collectedMessages(),
    warnings: [...settingsCheck.warnings, ...check.warnings],
  };
}
