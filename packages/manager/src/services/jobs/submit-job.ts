import { randomUUID } from 'node:crypto';
import {
  compileJob,
  FarmError,
  isFarmError,
  replaceTwoWayVariables,
  validationError,
  type ApiSubmittedJob,
  type CompiledJob,
  type Job,
  type JobType,
} from '@farm/core';
import { findProject, insertJob, toApiJob, toApiJobLite } from '../../db/queries/jobs';
import { insertTaskDependencies, insertTasks, type TaskInsert } from '../../db/queries/tasks';
import type { Principal } from '../../http/principal';
import { assertMaySubmit, visibleProjectIds } from '../auth/project-access';
import type { ServiceContext } from '../service-context';
import { rollUpJob } from '../task-transitions';
import { checkJobDependencies, insertJobDependencies, waitingActivity } from './job-dependencies';
import { jobTaskIds } from './job-task-ids';

/** The project a job goes to when the submission names none. */
export const DEFAULT_PROJECT_NAME = 'default';

function lookUpJobType(ctx: ServiceContext, name: string): JobType {
  try {
    return ctx.jobTypes.get(name);
  } catch (error) {
    if (!isFarmError(error) || error.code !== 'not_found') throw error;
    const known = ctx.jobTypes
      .list()
      .map((info) => info.name)
      .sort();
    throw validationError(`there is no job type "${name}"`, [
      {
        path: 'type',
        message: `is not a known job type (known: ${known.length > 0 ? known.join(', ') : 'none'})`,
      },
    ]);
  }
}

/** Tasks ready for `insertTasks`, plus the dependency edges as two parallel id lists. */
export function prepareTasks(
  compiled: CompiledJob,
  initialStatus: 'queued' | 'paused',
): { tasks: TaskInsert[]; dependencyTaskIds: string[]; dependsOnIds: string[] } {
  const ids = jobTaskIds(compiled.tasks.length);
  const dependencyTaskIds: string[] = [];
  const dependsOnIds: string[] = [];
  const tasks = new Array<TaskInsert>(compiled.tasks.length);
  for (let position = 0; position < compiled.tasks.length; position++) {
    const task = compiled.tasks[position]!;
    const id = ids[position]!;
    // Most tasks of a big job wait for nothing; a Set for each of them would be garbage.
    const unique = task.dependsOn.length < 2 ? task.dependsOn : [...new Set(task.dependsOn)];
    for (const index of unique) {
      dependencyTaskIds.push(id);
      dependsOnIds.push(ids[index]!);
    }
    tasks[position] = {
      id,
      idx: task.index,
      name: task.name,
      type: task.type,
      priority: task.priority,
      tags: task.tags,
      commands: task.commands,
      unmetDependencies: unique.length,
      steps: task.steps ?? null,
      status: initialStatus,
    };
  }
  return { tasks, dependencyTaskIds, dependsOnIds };
}

/**
 * Submits a job: resolves its project, turns the submitter's paths into two-way variables,
 * compiles it with its job type, and stores the job and all its tasks and dependencies in one
 * transaction (in bulk). Publishes `job-updated` and wakes idle workers after the commit.
 *
 * @throws FarmError `validation_failed` (unknown job type at `type`, invalid settings listing
 *   every problem), `not_found` (unknown project), `job_type_stale` (412), `compile_failed` (422).
 */
export async function submitJob(
  ctx: ServiceContext,
  principal: Principal | null,
  submitted: ApiSubmittedJob,
): Promise<Job> {
  const projectName = submitted.project ?? DEFAULT_PROJECT_NAME;
  const project = await findProject(ctx.db, projectName);
  if (!project) {
    throw new FarmError('not_found', `there is no project "${projectName}"`, {
      details: { project: projectName },
    });
  }
  assertMaySubmit(principal, project.id);

  const platform =
    submitted.submitterPlatform === undefined || submitted.submitterPlatform === 'manager'
      ? ctx.platform
      : submitted.submitterPlatform;
  const replaced = replaceTwoWayVariables(
    { settings: submitted.settings ?? {}, metadata: submitted.metadata ?? {} },
    ctx.variables,
    { platform },
  ).value;

  const jobType = lookUpJobType(ctx, submitted.type);
  const startedAt = performance.now();
  const jobId = randomUUID();
  const created = new Date();
  const compiled = compileJob(
    jobType,
    {
      name: submitted.name,
      type: submitted.type,
      ...(submitted.typeEtag !== undefined ? { typeEtag: submitted.typeEtag } : {}),
      ...(submitted.priority !== undefined ? { priority: submitted.priority } : {}),
      settings: replaced.settings,
      metadata: replaced.metadata,
    },
    { jobId, created },
  );

  const compiledAt = performance.now();
  const dependsOnJobs = submitted.dependsOnJobs ?? [];
  if (dependsOnJobs.length > 0 && submitted.initialStatus === 'paused') {
    // Resuming a paused job would start it before its dependencies completed.
    throw validationError('a job that waits for other jobs cannot be submitted paused', [
      {
        path: 'initialStatus',
        message: 'must be queued (or left out) when dependsOnJobs is given',
      },
    ]);
  }
  const initialStatus = submitted.initialStatus ?? 'queued';
  const { tasks, dependencyTaskIds, dependsOnIds } = prepareTasks(compiled, initialStatus);
  const stepsTotal = compiled.tasks.reduce((sum, task) => sum + (task.steps ?? 0), 0);
  const row = await ctx.db.transaction().execute(async (trx) => {
    // Checked inside the transaction, so a dependency completing meanwhile is seen either here
    // (the job starts queued) or by the dependency check that follows its completion.
    const dependencies = await checkJobDependencies(
      trx,
      dependsOnJobs,
      visibleProjectIds(principal),
    );
    const waiting = !dependencies.allCompleted;
    const job = await insertJob(trx, {
      id: jobId,
      name: compiled.name,
      type: compiled.type,
      type_etag: compiled.typeEtag,
      priority: compiled.priority,
      status: waiting ? 'waiting' : initialStatus,
      activity: waiting
        ? waitingActivity(dependencies.pending)
        : initialStatus === 'paused'
          ? 'Submitted paused'
          : `Submitted with ${tasks.length} tasks`,
      settings: JSON.stringify(compiled.settings),
      metadata: JSON.stringify(compiled.metadata),
      project_id: project.id,
      submitter_id: principal?.kind === 'user' ? principal.userId : null,
      required_tags: submitted.requiredTags ?? [],
      max_workers: submitted.maxWorkers ?? null,
      not_before: submitted.notBefore ?? null,
      failure_threshold_percent:
        submitted.failureThresholdPercent ?? ctx.config.failureThresholdPercent,
      max_task_failures: ctx.config.maxTaskFailures,
      blocklist_threshold: ctx.config.blocklistThreshold,
      tasks_total: tasks.length,
      tasks_queued: initialStatus === 'queued' ? tasks.length : 0,
      tasks_paused: initialStatus === 'paused' ? tasks.length : 0,
      steps_total: stepsTotal,
      created_at: created,
      updated_at: created,
    });
    await insertTasks(trx, jobId, tasks);
    await insertTaskDependencies(trx, dependencyTaskIds, dependsOnIds);
    await insertJobDependencies(trx, jobId, dependencies.ids);
    // A job type may compile to no task at all; the roll-up completes such a job at once.
    return tasks.length === 0 ? (await rollUpJob(trx, jobId)).job : job;
  });

  const job: Job = {
    ...toApiJob(
      row,
      { id: project.id, name: project.name },
      principal?.kind === 'user' ? { id: principal.userId, name: principal.name } : null,
    ),
    ...(dependsOnJobs.length > 0 ? { dependsOnJobs: [...new Set(dependsOnJobs)].sort() } : {}),
  };
  ctx.publish({ type: 'job-updated', job: toApiJobLite(job) });
  if (row.status === 'queued') ctx.wakeWorkers();
  ctx.logger.info('job submitted', {
    jobId,
    jobType: compiled.type,
    tasks: tasks.length,
    project: project.name,
    compileMs: Math.round(compiledAt - startedAt),
    storeMs: Math.round(performance.now() - compiledAt),
  });
  return job;
}
