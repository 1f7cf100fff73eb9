import type { Command } from 'commander';
import { isFarmError, type FarmClient, type Task } from '@farm/core';
import type { CliContext } from '../context';
import { CliExit, EXIT_CODES } from '../exit-codes';
import { openLiveSubscription, type LiveSubscription } from '../live/open-live-subscription';
import { addExamples, checkIds, parseIntOption } from './command-helpers';

interface LogsOptions {
  follow?: boolean;
  tail: number;
  all?: boolean;
}

const FINAL_TASK_STATUSES = new Set(['completed', 'failed', 'canceled']);
const SAFETY_POLL_MS = 15_000;

/** `farm logs TASK [-f]`. */
export function registerLogsCommand(program: Command, ctx: CliContext): void {
  addExamples(
    program
      .command('logs')
      .description("print a task's log (its end); -f follows it live until the task ends")
      .argument('<task-id>', 'the task id (see farm tasks JOB)')
      .option(
        '-f, --follow',
        'keep printing new lines until the task completes, fails or is canceled',
      )
      .option(
        '--tail <bytes>',
        'print at most this many bytes from the end',
        parseIntOption('--tail', 1, 104_857_600),
        65_536,
      )
      .option('--all', 'print the whole log')
      .action(async (taskId: string, options: LogsOptions, command: Command) => {
        checkIds('task', [taskId]);
        const client = ctx.client(command);
        const task = await client.getTask(taskId);
        const first = await client.getTaskLog(taskId, options.all ? {} : { tail: options.tail });
        ctx.io.stdout(first.text);
        if (!options.follow) return;
        const { url, token } = ctx.connection(command);
        await followLog(
          ctx,
          client,
          { url, token: token ?? '' },
          task,
          first.offset + byteLength(first.text),
        );
      }),
    [
      'farm logs 0b7e6c1d-2f3a-4b5c-8d9e-0f1a2b3c4d5e',
      'farm logs "$TASK" -f',
      'farm logs "$TASK" --all > task.log',
    ],
  );
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Prints new log text until the task ends: woken by the socket, or polling without it. */
async function followLog(
  ctx: CliContext,
  client: FarmClient,
  connection: { url: string; token: string },
  task: Task,
  startOffset: number,
): Promise<void> {
  const { io } = ctx;
  let offset = startOffset;
  if (FINAL_TASK_STATUSES.has(task.status)) {
    ctx.note(`(the task is ${task.status}; there is nothing more to follow)`);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    let finished = false;
    let busy: Promise<void> | undefined;
    let again = false;
    let timer: NodeJS.Timeout | undefined;
    let subscription: LiveSubscription | undefined;
    let pollEveryMs = io.pollIntervalMs;

    const finish = (error?: unknown): void => {
      if (finished) return;
      finished = true;
      subscription?.close();
      if (timer) clearTimeout(timer);
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
    };
    // Reads from where the last read ended: exact, whether woken by an event or a timer.
    const readMore = async (): Promise<void> => {
      const chunk = await client.getTaskLog(task.id, { offset });
      if (chunk.size < offset) offset = chunk.size;
      if (chunk.text) {
        io.stdout(chunk.text);
        offset = chunk.offset + byteLength(chunk.text);
      }
    };
    // Set from a task-updated event: the event is the news, no need to ask again.
    let knownFinalStatus: string | undefined;
    let wantCheck = false;
    const wake = (checkStatus: boolean): void => {
      if (finished) return;
      wantCheck ||= checkStatus;
      if (busy) {
        again = true;
        return;
      }
      busy = (async () => {
        try {
          do {
            again = false;
            await readMore();
            let status = knownFinalStatus;
            if (status === undefined && wantCheck) {
              wantCheck = false;
              status = (await client.getTask(task.id)).status;
            }
            if (status !== undefined && FINAL_TASK_STATUSES.has(status)) {
              await readMore();
              ctx.note(`(the task is ${status})`);
              finish();
            }
          } while (again && !finished);
        } catch (error) {
          if (isFarmError(error) && error.code === 'not_found') {
            finish(
              new CliExit(EXIT_CODES.error, `task ${task.id} was deleted while being followed`),
            );
          } else if (!(isFarmError(error) && error.code === 'unavailable')) {
            finish(error);
          }
        } finally {
          busy = undefined;
        }
      })();
    };
    const schedule = (): void => {
      if (finished) return;
      timer = setTimeout(() => {
        wake(true);
        schedule();
      }, pollEveryMs);
    };

    subscription = openLiveSubscription({
      url: connection.url,
      token: connection.token,
      topics: [
        { topic: 'task-log', id: task.id },
        { topic: 'job', id: task.jobId },
      ],
      onReady: () => {
        pollEveryMs = Math.max(io.pollIntervalMs, SAFETY_POLL_MS);
        wake(true);
      },
      onEvent: (event) => {
        if (event.type === 'task-log' && event.taskId === task.id) wake(false);
        else if (event.type === 'task-updated' && event.task.id === task.id) {
          if (FINAL_TASK_STATUSES.has(event.task.status)) knownFinalStatus = event.task.status;
          wake(false);
        } else if (
          (event.type === 'tasks-bulk-updated' || event.type === 'job-deleted') &&
          event.jobId === task.jobId
        ) {
          wake(true);
        }
      },
      onFail: (reason) => {
        subscription = undefined;
        ctx.debug(`${reason}; polling instead`);
        pollEveryMs = io.pollIntervalMs;
        if (timer) clearTimeout(timer);
        schedule();
      },
    });
    schedule();
  });
}
