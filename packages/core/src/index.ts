/**
 * @farm/core: what every Farm package and every TD script imports.
 *
 * Terminology
 * - Job: what a user submits (a job type, settings, priority, project, metadata), compiled into tasks.
 * - Task: the unit a worker runs: ordered commands, a task type, dependencies, a priority, an index.
 * - Command: one step of a task, `{ name, parameters }`, run by the worker's executor of that name.
 * - Job type: a script declaring `JOB_TYPE` (label, settings) and `compileJob(job)`.
 * - Worker: a machine or slot that runs tasks of the task types it supports.
 * - Variable: a named value per platform and audience, such as `{blender}` or `{render}`.
 */
export * from './errors';
export * from './status';
export * from './variables';
export * from './api';
export * from './commands';
export * from './job-types';
export * from './discovery';
export * from './live';
export * from './terminal';
export * from './access';
