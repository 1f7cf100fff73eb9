import { isFarmError, type FarmClient, type Job, type JobLite } from '@farm/core';
import type { CliContext } from '../context';
import { CliExit, EXIT_CODES, type ExitCode } from '../exit-codes';
import { estimateRemainingMs, formatProgress } from '../output/format-progress';
import { formatDuration } from '../output/format-time';
import { openLiveSubscription, type LiveSubscription } from './open-live-subscription';

// While the socket is up, a slow poll still runs: it costs one request a quarter minute and
// covers an event the manager could not deliver.
const SAFETY_POLL_MS = 15_000;
// A manager restart should not end a watch: give up only after this many failed polls in a row.
const MAX_POLL_FAILURES = 10;

const END_STATUSES: Record<string, ExitCode> = {
  completed: EXIT_CODES.ok,
  archived: EXIT_CODES.ok,
  failed: EXIT_CODES.jobFailed,
  canceled: EXIT_CODES.jobCanceled,
};

/**
 * Follows a job to its end with a progress bar (redrawn on a terminal, one line per change
 * otherwise): live over the websocket, polling every `pollIntervalMs` when the socket fails.
 * Resolves when the job completed; throws a silent CliExit 3 (failed) or 4 (canceled).
 */
export async function watchJob(
  ctx: CliContext,
  client: FarmClient,
  connection: { url: string; token: string },
  jobId: string,
): Promise<void> {
  const { io } = ctx;
  const first = await client.getJob(jobId);
  const start = { completed: first.taskCounts.completed, at: io.now() };
  let lastLine = '';

  const render = (job: Job | JobLite, final: boolean): void => {
    const counts = job.taskCounts;
    const etaMs = estimateRemainingMs(start, { ...counts, at: io.now() });
    const line = formatProgress(counts, { status: job.status, etaMs, colors: ctx.colors });
    if (io.isTTY) {
      io.stderr(`\r${line}\u001b[K${final ? '\n' : ''}`);
    } else if (line !== lastLine) {
      io.stderr(`${line}\n`);
    }
    lastLine = line;
  };

  const code = await new Promise<ExitCode>((resolve, reject) => {
    let finished = false;
    let subscription: LiveSubscription | undefined;
    let timer: NodeJS.Timeout | undefined;
    let pollFailures = 0;
    let pollEveryMs = io.pollIntervalMs;

    const finish = (result: ExitCode | Error): void => {
      if (finished) return;
      finished = true;
      subscription?.close();
      if (timer) clearTimeout(timer);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const update = (job: Job | JobLite): void => {
      if (finished) return;
      const end = END_STATUSES[job.status];
      render(job, end !== undefined);
      if (end === undefined) return;
      const took = formatDuration(io.now() - Date.parse(first.created));
      const what = job.status === 'archived' ? 'was archived' : job.status;
      const activity = job.activity && job.status !== 'completed' ? `: ${job.activity}` : '';
      ctx.note(
        `Job ${job.name} (${job.id}) ${what}${job.status === 'completed' ? ` after ${took}` : ''}${activity}`,
      );
      finish(end);
    };
    const poll = async (): Promise<void> => {
      timer = undefined;
      try {
        update(await client.getJob(jobId));
        pollFailures = 0;
      } catch (error) {
        if (isFarmError(error) && error.code === 'not_found') {
          finish(new CliExit(EXIT_CODES.error, `job ${jobId} was deleted while being watched`));
          return;
        }
        pollFailures += 1;
        if (
          pollFailures >= MAX_POLL_FAILURES ||
          (isFarmError(error) && error.code !== 'unavailable')
        ) {
          finish(error as Error);
          return;
        }
      }
      if (!finished) timer = setTimeout(() => void poll(), pollEveryMs);
    };

    update(first);
    if (finished) return;
    subscription = openLiveSubscription({
      url: connection.url,
      token: connection.token,
      topics: [{ topic: 'job', id: jobId }],
      onReady: () => {
        // Fetch once more now that no event can be missed: the job may have moved meanwhile.
        pollEveryMs = Math.max(io.pollIntervalMs, SAFETY_POLL_MS);
        if (timer) clearTimeout(timer);
        void poll();
      },
      onEvent: (event) => {
        if (event.type === 'job-updated' && event.job.id === jobId) update(event.job);
        else if (event.type === 'job-deleted' && event.jobId === jobId) {
          finish(new CliExit(EXIT_CODES.error, `job ${jobId} was deleted while being watched`));
        }
      },
      onFail: (reason) => {
        if (finished) return;
        subscription = undefined;
        ctx.debug(`${reason}; polling every ${io.pollIntervalMs / 1000} s instead`);
        pollEveryMs = io.pollIntervalMs;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => void poll(), pollEveryMs);
      },
    });
    timer = setTimeout(() => void poll(), io.pollIntervalMs);
  });

  if (code !== EXIT_CODES.ok) throw new CliExit(code, 'the job did not complete', { silent: true });
}
