import type { Kysely } from 'kysely';
import type { WorkerSummary } from '@farm/core';
import type { Database } from '../../db';
import type { Principal } from '../../http/principal';
import { canSeeProject, visibleProjectIds } from '../auth/project-access';

/**
 * Workers are farm-wide (decision 0014), but the task a worker runs belongs to a job's project:
 * callers without a role there see that the worker is busy (`busy`), not with what (issue 7).
 * Returns the workers with `currentTask` set to null where the caller may not see its job.
 */
export async function hideForeignTasks<W extends WorkerSummary>(
  db: Kysely<Database>,
  principal: Principal | null,
  workers: readonly W[],
): Promise<W[]> {
  if (visibleProjectIds(principal) === null) return [...workers];
  const jobIds = [...new Set(workers.flatMap((w) => (w.currentTask ? [w.currentTask.jobId] : [])))];
  if (jobIds.length === 0) return [...workers];
  const rows = await db
    .selectFrom('jobs')
    .select(['id', 'project_id'])
    .where('id', 'in', jobIds)
    .execute();
  const projectOf = new Map(rows.map((row) => [row.id, row.project_id]));
  return workers.map((worker) => {
    if (!worker.currentTask) return worker;
    const projectId = projectOf.get(worker.currentTask.jobId);
    // A job deleted meanwhile counts as unseen: when in doubt, nothing is shown.
    if (projectId !== undefined && canSeeProject(principal, projectId)) return worker;
    return { ...worker, currentTask: null, busy: true };
  });
}

/** As `hideForeignTasks`, for one worker. */
export async function hideForeignTask<W extends WorkerSummary>(
  db: Kysely<Database>,
  principal: Principal | null,
  worker: W,
): Promise<W> {
  const [shown] = await hideForeignTasks(db, principal, [worker]);
  return shown as W;
}
