import {
  expandVariables,
  FarmError,
  mayClaimTask,
  type AssignedTask,
  type Command,
  type WorkerRequestedStatus,
  type WorkerStateChange,
  type WorkerStatusRequest,
} from '@farm/core';
import { getApiJob, lockJob, toApiJobLite } from '../../db/queries/jobs';
import type { WorkerPrincipal } from '../../http/principal';
import { claimQueueOf } from '../../scheduler/claim-queue';
import type { ClaimedTask, ClaimResult } from '../../scheduler/claim-task';
import { formatManagerLine } from '../../storage/task-log-store';
import { rollUpJob, transitionTasks } from '../task-transitions';
import { countLogBytes, logText, managerLog, writeLogs } from './task-log-lines';
import { publishOutcome, readOutcome } from './task-outcome';
import type { WorkerServiceContext } from './worker-deps';

/** The longest a claim may wait for work (the API document's `waitMs` maximum). */
export const MAX_CLAIM_WAIT_MS = 60_000;

/** What a claim answers: a task, no work, or the status the worker must take first. */
export type ClaimOutcome =
  | { kind: 'task'; task: AssignedTask }
  | { kind: 'none' }
  | { kind: 'status-change'; change: WorkerStateChange }
  | { kind: 'not-awake'; status: string };

function requestOf(result: ClaimResult): WorkerStatusRequest | null {
  const worker = result.worker;
  if (!worker || worker.statusRequested === null) return null;
  return {
    status: worker.statusRequested as WorkerRequestedStatus,
    lazy: worker.statusRequestedLazy,
  };
}

/**
 * Claims the worker's next task, waiting up to `waitMs` for one (a long poll woken by
 * `wakeWorkers`). A worker with a pending status request gets that request instead (the caller
 * answers 423), a worker that is not awake gets `not-awake` (409). Commands are expanded for the
 * worker's platform; a command naming an unknown variable fails its task (with that reason) rather
 * than reaching the worker broken, and the claim looks for the next task.
 */
export async function claimWork(
  ctx: WorkerServiceContext,
  worker: WorkerPrincipal,
  options: { waitMs?: number; signal?: AbortSignal } = {},
): Promise<ClaimOutcome> {
  const deadline = Date.now() + Math.min(Math.max(0, options.waitMs ?? 0), MAX_CLAIM_WAIT_MS);
  for (;;) {
    const assignedLine = formatManagerLine(
      `Task assigned to worker ${worker.name} (${worker.workerId})`,
    );
    const result = await claimQueueOf(ctx.db).submit({
      workerId: worker.workerId,
      options: { logBytes: Buffer.byteLength(logText(assignedLine)) },
    });
    if (!result.worker) throw new FarmError('unauthenticated', 'this worker no longer exists');
    const request = requestOf(result);
    if (!mayClaimTask(result.worker.status, request)) {
      if (request) {
        return {
          kind: 'status-change',
          change: { statusRequested: request.status, lazy: request.lazy },
        };
      }
      // A worker marked `error` (it timed out) that asks for work is alive again: it recovers by
      // taking `awake`, without a person (Flamenco answered 409 to it forever).
      if (result.worker.status === 'error') {
        return { kind: 'status-change', change: { statusRequested: 'awake', lazy: false } };
      }
      return { kind: 'not-awake', status: result.worker.status };
    }
    if (result.task) {
      const assigned = await assign(ctx, worker, result, result.task, assignedLine);
      if (assigned) return { kind: 'task', task: assigned };
      continue;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0 || options.signal?.aborted) return { kind: 'none' };
    const reason = await ctx.wakeups.wait(worker.workerId, remaining, options.signal);
    // A wait that ran out heard of no new work: answering 204 without another look saves a
    // claim statement per long poll (an idle worker asks again at once, and that ask looks).
    if (reason === 'aborted' || reason === 'released' || reason === 'timeout') {
      return { kind: 'none' };
    }
  }
}

async function assign(
  ctx: WorkerServiceContext,
  worker: WorkerPrincipal,
  result: ClaimResult,
  task: ClaimedTask,
  assignedLine: string,
): Promise<AssignedTask | null> {
  const platform = result.worker!.platform;
  const expanded = expandVariables(task.commands as Command[], ctx.variables, {
    platform,
    audience: 'workers',
  });
  const problems = [
    ...expanded.unknown.map((name) => `unknown variable {${name}}`),
    ...expanded.cyclic.map((name) => `variable {${name}} refers to itself`),
  ];
  if (problems.length > 0) {
    await failUnexpandable(
      ctx,
      worker,
      task,
      `cannot expand the commands for ${platform}: ${problems.join(', ')}`,
    );
    return null;
  }
  ctx.progress?.remember(task.id, {
    workerId: worker.workerId,
    workerName: worker.name,
    jobId: task.jobId,
    index: task.index,
    name: task.name,
    type: task.type,
    priority: task.priority,
    progress: 0,
    activity: '',
  });
  if (!result.reclaimed) {
    await writeLogs(ctx, [{ jobId: task.jobId, taskId: task.id, text: logText(assignedLine) }]);
    ctx.publish({
      type: 'task-updated',
      jobId: task.jobId,
      previousStatus: task.previousStatus,
      task: {
        id: task.id,
        jobId: task.jobId,
        index: task.index,
        name: task.name,
        type: task.type,
        status: 'active',
        priority: task.priority,
        worker: { id: worker.workerId, name: worker.name },
        progress: 0,
        activity: '',
        updated: new Date().toISOString(),
      },
    });
    if (task.previousJobStatus !== task.jobStatus) await publishJob(ctx, task);
  }
  const assigned: AssignedTask = {
    id: task.id,
    jobId: task.jobId,
    jobName: task.jobName,
    jobPriority: task.jobPriority,
    jobType: task.jobType,
    name: task.name,
    type: task.type,
    index: task.index,
    priority: task.priority,
    commands: expanded.value,
  };
  if (task.steps !== null) assigned.steps = task.steps;
  return assigned;
}

async function publishJob(ctx: WorkerServiceContext, task: ClaimedTask): Promise<void> {
  const job = await getApiJob(ctx.db, task.jobId);
  ctx.publish({
    type: 'job-updated',
    job: toApiJobLite(job),
    previousStatus: task.previousJobStatus,
  });
}

/** A task whose commands cannot be expanded fails for good: no worker could run it as sent. */
async function failUnexpandable(
  ctx: WorkerServiceContext,
  worker: WorkerPrincipal,
  task: ClaimedTask,
  reason: string,
): Promise<void> {
  const logs = [
    managerLog(task.jobId, task.id, `Task not sent to worker ${worker.name}: ${reason}`),
  ];
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    await lockJob(trx, task.jobId);
    const { moved } = await transitionTasks(trx, {
      jobId: task.jobId,
      taskIds: [task.id],
      from: ['active'],
      to: 'failed',
      activity: `Failed: ${reason}`,
    });
    await countLogBytes(trx, logs);
    const rolled = await rollUpJob(trx, task.jobId);
    return readOutcome(trx, task.jobId, moved, rolled);
  });
  ctx.logger.warn('task failed at assignment', { taskId: task.id, reason });
  await writeLogs(ctx, logs);
  publishOutcome(ctx, outcome);
}
