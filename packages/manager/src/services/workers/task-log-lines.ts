import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../db';
import { formatManagerLine } from '../../storage/task-log-store';
import type { ServiceContext } from '../service-context';

/** Text to append to a task's log once the transaction that produced it has committed. */
export interface PendingLog {
  jobId: string;
  taskId: string;
  text: string;
}

/** The log text as stored: with a trailing newline. */
export function logText(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** A manager line for a task's log (timestamped now). */
export function managerLog(jobId: string, taskId: string, text: string): PendingLog {
  return { jobId, taskId, text: logText(formatManagerLine(text)) };
}

/** Adds the pending lines' sizes to `tasks.log_size` (in the transaction that made them). */
export async function countLogBytes(
  db: Kysely<Database> | Transaction<Database>,
  logs: readonly PendingLog[],
): Promise<void> {
  const bytes = new Map<string, number>();
  for (const log of logs) {
    bytes.set(log.taskId, (bytes.get(log.taskId) ?? 0) + Buffer.byteLength(log.text));
  }
  if (bytes.size === 0) return;
  const ids = [...bytes.keys()];
  const sizes = ids.map((id) => bytes.get(id)!);
  await sql`
    update tasks t set log_size = t.log_size + d.n
    from unnest(${ids}::uuid[], ${sizes}::bigint[]) as d(id, n)
    where t.id = d.id`.execute(db);
}

/**
 * Appends the lines to the logs and publishes them as `task-log` (after the commit). Failures are
 * logged: the state change they describe has happened anyway.
 */
export async function writeLogs(ctx: ServiceContext, logs: readonly PendingLog[]): Promise<void> {
  await Promise.all(
    logs.map(async (log) => {
      try {
        await ctx.logs.append(log.jobId, log.taskId, log.text);
        ctx.publish({ type: 'task-log', jobId: log.jobId, taskId: log.taskId, lines: log.text });
      } catch (error) {
        ctx.logger.error('could not write a task log', {
          taskId: log.taskId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }),
  );
}
