import { createHash } from 'node:crypto';
import { types } from 'node:util';
import vm from 'node:vm';
import { FarmError, validationError } from '../errors';
import { computeJobTypeEtag } from './job-type-etag';
import type { JobType, JobTypeInfo, SandboxOptions } from './job-type-types';
import { parseJobTypeDefinition, type JobTypeDefinition } from './parse-job-type-definition';
import { ScriptSandbox, scriptPlatform } from './script-sandbox';

/** What compileJob needs beyond the public fields; kept off the object so it stays plain data. */
export interface JobTypeRuntime {
  script: vm.Script;
  timeoutMs: number | undefined;
  /** The checked declaration; callers cannot change it through the public object. */
  definition: JobTypeDefinition;
}

const runtimes = new WeakMap<JobType, JobTypeRuntime>();

/** The compiled script of a job type made by this package, or undefined for anything else. */
export function getJobTypeRuntime(jobType: JobType): JobTypeRuntime | undefined {
  return runtimes.get(jobType);
}

/** The job type name of a script file: its stem with `_` turned into `-`, as Flamenco does. */
export function jobTypeNameFromFile(fileName: string): string {
  const base = fileName.replace(/\\/g, '/').split('/').pop() ?? fileName;
  return base.replace(/\.js$/i, '').replace(/_/g, '-');
}

/** Options of `createJobType`. */
export interface CreateJobTypeOptions extends SandboxOptions {
  /** The job type name, e.g. `echo-sleep-test`. */
  name: string;
  /** The script text: `const JOB_TYPE = {...}; function compileJob(job) {...}`. */
  source: string;
  /** The file it came from, shown in error locations. */
  path?: string;
}

function compileScript(name: string, source: string, filename: string): vm.Script {
  try {
    return new vm.Script(source, { filename });
  } catch (error) {
    const message = types.isNativeError(error) ? error.message : String(error);
    // V8 puts "file:line" on the first line of a syntax error's stack.
    const where = types.isNativeError(error) ? error.stack?.split('\n')[0] : undefined;
    throw new FarmError(
      'compile_failed',
      `job type "${name}" has a syntax error: ${message}${where ? ` (at ${where})` : ''}`,
      { details: { jobType: name } },
    );
  }
}

/**
 * Makes a job type from script text: compiles it once, runs it in a sandbox to read `JOB_TYPE`,
 * checks the declaration and computes the etag.
 *
 * @throws FarmError `compile_failed` for a syntax error, a throwing or endless script, or no
 *   `compileJob`; `validation_failed` listing every problem of `JOB_TYPE`.
 */
export function createJobType(options: CreateJobTypeOptions): JobType {
  const { name, source, path } = options;
  const filename = path ?? `${name}.js`;
  const script = compileScript(name, source, filename);
  const sandbox = new ScriptSandbox(
    { platform: scriptPlatform(), cwd: process.cwd(), maxTasks: 0 },
    { timeoutMs: options.timeoutMs },
  );
  const fail = (message: string): FarmError =>
    new FarmError('compile_failed', `job type "${name}": ${message}`, {
      details: { jobType: name },
    });
  try {
    sandbox.run(script, 'the script');
  } catch (error) {
    throw fail((error as Error).message);
  }
  const reply = JSON.parse(sandbox.describe()) as {
    ok: boolean;
    error?: string;
    definition?: unknown;
    hasCompile?: boolean;
  };
  if (!reply.ok) throw fail(`reading JOB_TYPE failed: ${reply.error ?? 'unknown error'}`);
  const { definition, issues } = parseJobTypeDefinition(reply.definition);
  if (issues.length > 0) {
    throw validationError(
      `job type "${name}" declares an invalid JOB_TYPE: ${issues.length} problem${issues.length === 1 ? '' : 's'}`,
      issues,
    );
  }
  if (!reply.hasCompile) throw fail('the script defines no compileJob(job) function');

  const etag = computeJobTypeEtag(definition.label, definition.settings);
  const info = (): JobTypeInfo => {
    const result: JobTypeInfo = {
      name,
      label: definition.label,
      settings: structuredClone(definition.settings),
      etag,
    };
    if (definition.description !== undefined) result.description = definition.description;
    return result;
  };
  const jobType: JobType = Object.freeze({
    ...info(),
    path,
    sourceHash: createHash('sha256').update(source).digest('hex'),
    info,
  });
  runtimes.set(jobType, { script, timeoutMs: options.timeoutMs, definition });
  return jobType;
}
