import { sql } from 'kysely';
import type { ServiceContext } from '../services/service-context';
import { failTaskForSilentWorker } from '../services/workers/update-task';
import { formatDuration } from './format-duration';

/** How many timed-out tasks one tick handles; the next tick takes the rest. */
const BATCH = 200;

/**
 * Fails every active task not updated for `task_timeout` as a failure of its worker, through the
 * same rules as a worker's own failure report (failure list, soft/hard fail, blocklist): it goes
 * to another worker unless too many have failed it. The worker is told to stop it. Resolves the
 * ids of the tasks it failed. `now` is for tests; the database clock is used otherwise.
 */
export async function checkTaskTimeouts(ctx: ServiceContext, now?: Date): Promise<string[]> {
  const timeoutMs = ctx.config.taskTimeoutMs;
  if (timeoutMs <= 0) return [];
  const clock = now ? sql`${now}::timestamptz` : sql`now()`;
  const { rows } = await sql<{
    id: string;
    worker_id: string;
    worker_name: string;
    last_touched_at: Date;
  }>`
    select t.id, t.worker_id, w.name as worker_name, t.last_touched_at
    from tasks t join workers w on w.id = t.worker_id
    where t.status = 'active'
      and t.last_touched_at < ${clock} - ${timeoutMs}::double precision * interval '1 millisecond'
    order by t.last_touched_at
    limit ${BATCH}`.execute(ctx.db);
  const failed: string[] = [];
  for (const row of rows) {
    const reason = `no update from worker ${row.worker_name} for ${formatDuration(timeoutMs)}`;
    try {
      const done = await failTaskForSilentWorker(
        ctx,
        { kind: 'worker', workerId: row.worker_id, name: row.worker_name },
        row.id,
        { activity: reason, failureReason: reason },
        row.last_touched_at,
      );
      if (!done) continue;
      failed.push(row.id);
      ctx.stopTasks([row.id], reason);
      ctx.logger.warn('task timed out', { taskId: row.id, workerId: row.worker_id, reason });
    } catch (error) {
      ctx.logger.error('could not time out a task', {
        taskId: row.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return failed;
}
