import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { FarmError, isFarmError } from '../errors';
import { createJobType } from './create-job-type';
import type { JobType, JobTypeInfo, SandboxOptions } from './job-type-types';
import { BUNDLED_JOB_TYPES_DIR, findJobTypeFiles } from './load-job-type';

/** A script that could not be loaded; the registry keeps going without it. */
export interface JobTypeProblem {
  name: string;
  path: string;
  message: string;
  details?: unknown;
}

/** What `reload()` found. */
export interface JobTypeReloadResult {
  /** Names of job types that are new or whose script changed. */
  changed: string[];
  /** Names that are gone since the last load. */
  removed: string[];
  problems: JobTypeProblem[];
}

/** The manager's set of job types: bundled ones plus its job-types folders. */
export interface JobTypeRegistry {
  /** @throws FarmError `not_found` naming the available job types. */
  get(name: string): JobType;
  /** Every loaded job type, sorted by name. */
  list(): JobTypeInfo[];
  /** Scripts that failed to load at the last reload. */
  problems(): JobTypeProblem[];
  /** Re-reads the folders; unchanged scripts are reused, not recompiled. Call it on file change. */
  reload(): JobTypeReloadResult;
}

/** Options of `createJobTypeRegistry`. */
export interface JobTypeRegistryOptions extends SandboxOptions {
  /** Folders searched after the bundled job types; a later folder's file wins. */
  folders?: string[];
  /** Leave out the bundled job types; default false. */
  withoutBundled?: boolean;
}

/**
 * Makes the registry of job types the manager serves. Scripts are compiled once and cached by
 * the hash of their text, so `reload()` after a file change only recompiles what changed; a
 * broken script is reported in `problems()` and skipped, keeping the others available (and, when
 * it was loaded before, its last good version).
 */
export function createJobTypeRegistry(options: JobTypeRegistryOptions = {}): JobTypeRegistry {
  const folders = [
    ...(options.withoutBundled ? [] : [BUNDLED_JOB_TYPES_DIR]),
    ...(options.folders ?? []),
  ];
  // Keyed by name and content hash, since the name comes from the file, not the text.
  const cache = new Map<string, JobType>();
  let current = new Map<string, JobType>();
  let lastProblems: JobTypeProblem[] = [];

  function reload(): JobTypeReloadResult {
    const next = new Map<string, JobType>();
    const problems: JobTypeProblem[] = [];
    const changed: string[] = [];
    for (const file of findJobTypeFiles(folders)) {
      try {
        const source = fs.readFileSync(file.path, 'utf8');
        const key = `${file.name}\0${file.path}\0${createHash('sha256').update(source).digest('hex')}`;
        let jobType = cache.get(key);
        if (!jobType) {
          jobType = createJobType({ ...options, name: file.name, source, path: file.path });
          cache.set(key, jobType);
        }
        if (current.get(file.name) !== jobType) changed.push(file.name);
        next.set(file.name, jobType);
      } catch (error) {
        const problem: JobTypeProblem = {
          name: file.name,
          path: file.path,
          message: error instanceof Error ? error.message : String(error),
        };
        if (isFarmError(error) && error.details !== undefined) problem.details = error.details;
        // A broken edit (or a file caught half-written by an editor) must not take a working job
        // type away from the artists using it: the last good version of the same file stays.
        const previous = current.get(file.name);
        if (previous && previous.path === file.path) {
          next.set(file.name, previous);
          problem.message += ' (the previous version of this file stays in use)';
        }
        problems.push(problem);
      }
    }
    const removed = [...current.keys()].filter((name) => !next.has(name));
    // Drop cache entries no file uses any more, so edits over months do not pile up.
    const live = new Set(next.values());
    for (const [key, jobType] of cache) if (!live.has(jobType)) cache.delete(key);
    current = next;
    lastProblems = problems;
    return { changed, removed, problems };
  }

  reload();
  return {
    get(name: string): JobType {
      const jobType = current.get(name.replace(/_/g, '-'));
      if (!jobType) {
        throw new FarmError('not_found', `there is no job type "${name}"`, {
          details: { available: [...current.keys()].sort() },
        });
      }
      return jobType;
    },
    list: () => [...current.values()].map((jobType) => jobType.info()),
    problems: () => [...lastProblems],
    reload,
  };
}
