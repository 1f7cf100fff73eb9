import { sql } from 'kysely';
import type { WorkerStatus } from '@farm/core';
import { handBackWorkerTasks } from '../services/workers/hand-back-tasks';
import type { WorkerServiceContext } from '../services/workers/worker-deps';
import { publishWorker } from '../services/workers/worker-view';
import { formatDuration } from './format-duration';

/**
 * Marks `error` every worker that is neither offline nor in error and was not seen for
 * `worker_timeout`, clears its pending status request, and hands its active tasks back to the
 * queue at once (no failure counted: the worker may simply have lost its network). The worker
 * recovers by itself when it is heard from again (sign-on, heartbeat, claim). Resolves the ids of
 * the workers it marked. `now` is for tests; the database clock is used otherwise.
 */
export async function checkWorkerTimeouts(
  ctx: WorkerServiceContext,
  now?: Date,
): Promise<string[]> {
  const timeoutMs = ctx.config.workerTimeoutMs;
  if (timeoutMs <= 0) return [];
  const clock = now ? sql`${now}::timestamptz` : sql`now()`;
  const { rows } = await sql<{ id: string; name: string; previous_status: WorkerStatus }>`
    with timed_out as (
      select id, status from workers
      where status not in ('offline', 'error')
        and coalesce(last_seen_at, created_at)
          < ${clock} - ${timeoutMs}::double precision * interval '1 millisecond'
      for update skip locked
    )
    update workers w set status = 'error', status_requested = null,
      status_requested_lazy = false, updated_at = now()
    from timed_out
    where w.id = timed_out.id
    returning w.id, w.name, timed_out.status as previous_status`.execute(ctx.db);
  for (const worker of rows) {
    const reason = `Worker ${worker.name} timed out: not seen for ${formatDuration(timeoutMs)}`;
    ctx.logger.warn('worker timed out', { workerId: worker.id, name: worker.name });
    try {
      const handedBack = await handBackWorkerTasks(ctx, worker, reason);
      // Should it be alive but cut off, it must not go on with work that is now someone else's.
      if (handedBack.length > 0) ctx.stopTasks(handedBack, reason);
    } catch (error) {
      ctx.logger.error('could not hand back the tasks of a timed-out worker', {
        workerId: worker.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    await publishWorker(ctx, worker.id, worker.previous_status);
  }
  return rows.map((worker) => worker.id);
}
