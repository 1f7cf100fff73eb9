import fs from 'node:fs';
import path from 'node:path';
import { FarmError } from '../errors';
import { createJobType, jobTypeNameFromFile } from './create-job-type';
import type { JobType, JobTypeInfo, SandboxOptions } from './job-type-types';

/**
 * The folder of the bundled job-type scripts. This file sits at the same depth in `src/` and
 * `dist/`, so the path works from the build and from the sources under jest.
 */
export const BUNDLED_JOB_TYPES_DIR = path.join(__dirname, '..', '..', 'job-types');

// Flamenco skips files shorter than this: an empty or placeholder file is not a job type.
const MIN_SCRIPT_BYTES = 8;

/** One job-type script file found in a folder. */
export interface JobTypeFile {
  name: string;
  path: string;
}

/**
 * The job-type scripts of the given folders: regular top-level `*.js` files (symlinks followed),
 * named by stem with `_` turned into `-`. A later folder's file wins over an earlier one's.
 */
export function findJobTypeFiles(folders: readonly string[]): JobTypeFile[] {
  const byName = new Map<string, JobTypeFile>();
  for (const folder of folders) {
    let entries: string[];
    try {
      entries = fs.readdirSync(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const entry of entries.sort()) {
      if (!entry.toLowerCase().endsWith('.js')) continue;
      const file = path.resolve(folder, entry);
      let stat: fs.Stats;
      try {
        stat = fs.statSync(file);
      } catch {
        continue; // a dangling symlink
      }
      if (!stat.isFile() || stat.size < MIN_SCRIPT_BYTES) continue;
      const name = jobTypeNameFromFile(entry);
      byName.set(name, { name, path: file });
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Loads one job-type script file. */
export function loadJobTypeFile(file: string, options: SandboxOptions = {}): JobType {
  const source = fs.readFileSync(file, 'utf8');
  return createJobType({ ...options, name: jobTypeNameFromFile(file), source, path: file });
}

function looksLikePath(nameOrPath: string): boolean {
  return /[\\/]/.test(nameOrPath) || nameOrPath.toLowerCase().endsWith('.js');
}

/**
 * Loads a job type: a bundled one by name (`echo-sleep-test`, or Flamenco's spelling
 * `echo_sleep_test`), or a script file by path.
 *
 * @throws FarmError `not_found` when there is no such job type or file, `compile_failed` or
 *   `validation_failed` when the script is broken.
 * @example const jt = loadJobType('simple-blender-render');
 */
export function loadJobType(nameOrPath: string, options: SandboxOptions = {}): JobType {
  if (looksLikePath(nameOrPath)) {
    const file = path.resolve(nameOrPath);
    if (!fs.existsSync(file)) {
      throw new FarmError('not_found', `job-type script ${file} does not exist`);
    }
    return loadJobTypeFile(file, options);
  }
  const name = nameOrPath.replace(/_/g, '-');
  const bundled = findJobTypeFiles([BUNDLED_JOB_TYPES_DIR]);
  const match = bundled.find((file) => file.name === name);
  if (!match) {
    throw new FarmError(
      'not_found',
      `there is no bundled job type "${nameOrPath}"; bundled: ${bundled.map((f) => f.name).join(', ')}` +
        ' (give a path to load a script file)',
    );
  }
  return loadJobTypeFile(match.path, options);
}

/**
 * Describes every available job type: the bundled ones plus the scripts of `folders` (a later
 * folder's file replaces a bundled one of the same name).
 *
 * @throws FarmError when a script cannot be loaded; the manager uses a registry instead, which
 *   skips broken scripts and reports them.
 */
export function listJobTypes(options: { folders?: string[] } & SandboxOptions = {}): JobTypeInfo[] {
  const files = findJobTypeFiles([BUNDLED_JOB_TYPES_DIR, ...(options.folders ?? [])]);
  return files.map((file) => loadJobTypeFile(file.path, options).info());
}
