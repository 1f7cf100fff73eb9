import type { Command } from '../commands';

/** The value types a job-type setting may declare (Flamenco's names). */
export const JOB_SETTING_TYPES = ['string', 'int32', 'float', 'bool'] as const;
export type JobSettingType = (typeof JOB_SETTING_TYPES)[number];

/** Where a setting is shown: Flamenco's `visible` values. */
export const JOB_SETTING_VISIBILITIES = ['visible', 'submission', 'web', 'hidden'] as const;
export type JobSettingVisibility = (typeof JOB_SETTING_VISIBILITIES)[number];

/** One setting a job type declares in `JOB_TYPE.settings`, with Flamenco 3.9's fields. */
export interface JobSetting {
  key: string;
  type: JobSettingType;
  /** A hint for submitters such as `dir_path`, `file_path` or `hashed_file_path`. */
  subtype?: string;
  /** The allowed values; a submitted value outside them is refused. */
  choices?: Array<string | number>;
  /** Extra property arguments; `min` and `max` are enforced, the rest only guide submitters. */
  propargs?: Record<string, unknown>;
  description?: string;
  label?: string;
  /** Applied when the submission has no value for the setting. */
  default?: unknown;
  /** A Python expression the Blender add-on evaluates to fill the setting. */
  eval?: string;
  evalInfo?: { showLinkButton?: boolean; description?: string };
  visible?: JobSettingVisibility;
  required?: boolean;
  editable?: boolean;
}

/** What `GET /job-types/{name}` returns: a job type's public description. */
export interface JobTypeInfo {
  /** File stem with `_` turned into `-`, e.g. `simple-blender-render`. */
  name: string;
  label: string;
  description?: string;
  settings: JobSetting[];
  /** Changes when the label or settings change (not when only the compile code changes). */
  etag: string;
}

/** A loaded, ready-to-compile job type. Get one from `loadJobType` or a job-type registry. */
export interface JobType extends JobTypeInfo {
  /** The script file it came from; undefined for a script given as source text. */
  path: string | undefined;
  /** sha256 of the script text, so a registry can tell an edited file from an unchanged one. */
  sourceHash: string;
  /** The public description, without the runtime fields. */
  info(): JobTypeInfo;
}

/** A job as a submitter sends it, before compilation. Other fields are ignored by compilation. */
export interface SubmittedJob {
  name: string;
  type: string;
  /** The etag of the job type the submitter saw; a different current etag refuses the job. */
  typeEtag?: string;
  /** 0 to 100, default 50. */
  priority?: number;
  settings?: Record<string, unknown>;
  metadata?: Record<string, string>;
  submitterPlatform?: string;
  [other: string]: unknown;
}

/** One task of a compiled job. */
export interface CompiledTask {
  /** 0-based, the order in which the script called `job.addTask`. */
  index: number;
  name: string;
  /** The task type, e.g. `blender`; workers only take task types they support. */
  type: string;
  /** Higher runs first among the tasks of a job; default 50. */
  priority: number;
  tags: string[];
  commands: Command[];
  /** Indices of the tasks this task waits for. */
  dependsOn: number[];
  /** Sum of the commands' progress steps, when any command declares steps. */
  steps?: number;
}

/** A job after compilation: settings with defaults and the script's changes, and its tasks. */
export interface CompiledJob {
  name: string;
  type: string;
  typeEtag: string;
  priority: number;
  settings: Record<string, unknown>;
  metadata: Record<string, string>;
  tasks: CompiledTask[];
  /** What the script passed to `print` and `alert`. */
  messages: string[];
  /** Problems that did not stop compilation, such as settings the job type does not declare. */
  warnings: string[];
}

/** Options of the sandbox that runs job-type scripts. */
export interface SandboxOptions {
  /** How long one run of script code may take; default 5000. */
  timeoutMs?: number;
}

/** Options of `compileJob`. */
export interface CompileJobOptions extends SandboxOptions {
  /** The id the job will be stored under, shown to the script as `job.id`; default a random UUID. */
  jobId?: string;
  /** The job's creation time, shown to the script as `job.created`; default now. */
  created?: Date;
  /** The most tasks one job may have; default 1,000,000. */
  maxTasks?: number;
  /** The directory `process.cwd()` returns to scripts; default the manager's working directory. */
  cwd?: string;
}
