import type { EventBus } from '../../events/event-bus';
import type { ServiceContext } from '../service-context';
import { refreshWaitingJobs } from './job-dependencies';

// A dependency's status change that matters to the jobs waiting for it: completion releases them,
// failure or cancelation changes what their activity line says, a requeue changes it back.
const RELEVANT = new Set(['completed', 'failed', 'canceled', 'queued', 'active']);

/**
 * Re-examines the jobs waiting for a job whenever that job's status changes, and every waiting
 * job when a job is deleted (its edges went with it). Events from other replicas count too: the
 * release is a guarded update, so the job starts once whichever replica gets there first. Checks
 * run one after another, so a burst of completions does not open a burst of connections. Returns
 * the function that stops watching.
 */
export function watchJobDependencies(
  ctx: ServiceContext,
  events: Pick<EventBus, 'subscribe'>,
): () => void {
  let chain: Promise<unknown> = Promise.resolve();
  const enqueue = (dependencyIds?: string[]) => {
    chain = chain
      .then(() => refreshWaitingJobs(ctx, dependencyIds))
      .catch((error: unknown) =>
        ctx.logger.warn('waiting jobs could not be checked', { error: String(error) }),
      );
  };
  return events.subscribe((event) => {
    if (event.type === 'job-updated') {
      if (event.previousStatus !== undefined && event.previousStatus !== event.job.status) {
        if (RELEVANT.has(event.job.status)) enqueue([event.job.id]);
      }
    } else if (event.type === 'job-deleted') {
      enqueue();
    }
  });
}
