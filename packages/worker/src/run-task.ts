import { isFarmError } from '@farm/core';
import {
  runCommand,
  type CommandContext,
  type CommandRegistry,
  type ProgressUpdate,
} from './commands';
import { createLogBatcher } from './logs';
import type { AssignedTask, TaskUpdateBody } from './protocol';

export interface RunTaskOptions {
  task: AssignedTask;
  /** Queues an update for the manager (the outbox); must keep the order of calls. */
  report: (update: TaskUpdateBody) => void;
  /** Aborted when the task must stop (manager's stop-task, a status change, shutdown). */
  signal: AbortSignal;
  workDir: string;
  platform?: NodeJS.Platform;
  killGraceMs?: number;
  onOutput?: (imagePath: string) => void;
  /**
   * Runs after the last command and before the final status: the manager refuses a preview of a
   * task that has ended, so the last rendered frame must be uploaded first.
   */
  beforeFinish?: () => Promise<void>;
  registry?: CommandRegistry;
  /** Progress reports are sent at most this often; the last one always. 250 ms by default. */
  progressIntervalMs?: number;
  /** Log lines wait at most this long before they are sent. 1 s by default. */
  logMaxDelayMs?: number;
  /**
   * Whether a stop with this abort reason is reported to the manager as `failed`. A job being
   * canceled or paused waits for its running tasks to report back (the manager turns the report
   * into `canceled`/`paused` without counting a failure); a worker shutting down hands its task
   * back at sign-off instead. A report for a task the manager has already moved is refused (409)
   * and dropped, so reporting is always safe.
   */
  reportStop?: (reason: unknown) => boolean;
}

/** How a task run ended. `stopped`: aborted on request (reported only when `reportStop` says so). */
export type TaskOutcome =
  | { outcome: 'completed' }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'stopped'; reason: string };

/**
 * Runs a task's commands in order and reports to the manager: `active` first, then log lines
 * (batched), progress (throttled) and activity, and `completed`, or `failed` with the error as
 * `failureReason`. A stopped task reports `failed` only when `reportStop` accepts the reason.
 */
export async function runTask(options: RunTaskOptions): Promise<TaskOutcome> {
  const { task, report, signal } = options;
  const commands = task.commands;
  const totalSteps = task.steps ?? commands.reduce((n, c) => n + (c.steps ?? 0), 0);
  const useSteps = totalSteps > 0 && commands.every((c) => c.steps !== undefined);
  const progressIntervalMs = options.progressIntervalMs ?? 250;

  report({ status: 'active', activity: 'Started', progress: 0 });

  const batcher = createLogBatcher({
    send: (lines) => report({ log: lines }),
    maxDelayMs: options.logMaxDelayMs ?? 1000,
    // Sending means queueing in the outbox, which does not fail.
    onError: () => undefined,
  });

  // Throttled progress: fields merge until the next send; a timer makes sure the last one goes.
  let pendingProgress: TaskUpdateBody | undefined;
  let lastSentAt = 0;
  let progressTimer: NodeJS.Timeout | undefined;
  const sendProgress = (): void => {
    clearTimeout(progressTimer);
    progressTimer = undefined;
    if (pendingProgress === undefined) return;
    report(pendingProgress);
    pendingProgress = undefined;
    lastSentAt = Date.now();
  };
  const queueProgress = (update: TaskUpdateBody): void => {
    pendingProgress = { ...pendingProgress, ...update };
    const wait = lastSentAt + progressIntervalMs - Date.now();
    if (wait <= 0) sendProgress();
    else progressTimer ??= setTimeout(sendProgress, wait);
  };

  let stepsBefore = 0;
  let outcome: TaskOutcome;
  try {
    for (const [index, command] of commands.entries()) {
      const label = `${command.name} (${index + 1}/${commands.length})`;
      batcher.add(`--- running ${label}`);
      queueProgress({ activity: `Running ${label}` });
      const commandSteps = command.steps ?? 0;
      const base = stepsBefore;
      const ctx: CommandContext = {
        log: (line) => batcher.add(line),
        progress: (update: ProgressUpdate) => {
          const progressUpdate: TaskUpdateBody = {};
          if (update.activity !== undefined)
            progressUpdate.activity = update.activity.slice(0, 2000);
          if (update.fraction !== undefined) {
            const fraction = clamp01(update.fraction);
            progressUpdate.progress = clamp01(
              useSteps
                ? (base + fraction * commandSteps) / totalSteps
                : (index + fraction) / commands.length,
            );
          }
          if (update.stepsDone !== undefined)
            progressUpdate.stepsDone = Math.max(0, Math.floor(base + update.stepsDone));
          queueProgress(progressUpdate);
        },
        outputProduced: (imagePath) => options.onOutput?.(imagePath),
        signal,
        platform: options.platform ?? process.platform,
        workDir: options.workDir,
        killGraceMs: options.killGraceMs,
      };
      await runCommand(command, ctx, options.registry);
      stepsBefore += commandSteps;
      queueProgress({
        progress: clamp01(useSteps ? stepsBefore / totalSteps : (index + 1) / commands.length),
        ...(useSteps ? { stepsDone: stepsBefore } : {}),
      });
    }
    outcome = { outcome: 'completed' };
  } catch (error) {
    if (signal.aborted) {
      const reason = describeReason(signal.reason);
      batcher.add(`task stopped: ${reason}`);
      outcome = { outcome: 'stopped', reason };
    } else {
      const reason = isFarmError(error) || error instanceof Error ? error.message : String(error);
      batcher.add(`task failed: ${reason}`);
      outcome = { outcome: 'failed', reason };
    }
  }
  if (outcome.outcome !== 'stopped') await options.beforeFinish?.();
  await batcher.close();
  sendProgress();
  if (outcome.outcome === 'completed')
    report({
      status: 'completed',
      activity: 'Completed',
      progress: 1,
      ...(totalSteps > 0 ? { stepsDone: totalSteps } : {}),
    });
  else if (outcome.outcome === 'failed')
    report({
      status: 'failed',
      activity: `Failed: ${outcome.reason}`.slice(0, 2000),
      failureReason: outcome.reason.slice(0, 4000),
    });
  else if (options.reportStop?.(signal.reason))
    report({
      status: 'failed',
      activity: `Stopped: ${outcome.reason}`.slice(0, 2000),
      failureReason: `stopped: ${outcome.reason}`.slice(0, 4000),
    });
  return outcome;
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'stopped';
}
