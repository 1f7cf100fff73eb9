import type { Kysely } from 'kysely';
import { FarmError, eventJobId, type BroadcastEvent, type LiveTopic } from '@farm/core';
import type { Database } from '../db';
import type { Principal } from '../http/principal';
import { canSeeProject, mayAccessJob } from '../services/auth/project-access';

const MAX_REMEMBERED_JOBS = 100_000;

/** What the live socket needs to filter subscriptions and events by project (issue 7). */
export interface LiveAccess {
  /** Per event and subscriber: synchronous, from a cache of job → project. */
  canSee(principal: Principal, event: BroadcastEvent): boolean;
  /** Before a subscription is accepted: the job or task must be one the caller may see. */
  authorizeSubscription(principal: Principal, topic: LiveTopic, id?: string): Promise<void>;
  /**
   * The event as this subscriber may see it (synchronous, same cache): a worker's current task is
   * replaced by `busy` for callers without a role in its job's project. Returns `event` itself
   * when nothing is hidden.
   */
  redact(principal: Principal, event: BroadcastEvent): BroadcastEvent;
}

/**
 * Filters live events to the projects the subscriber has a role in (farm admins see all). Job
 * events carry their project; other job-related events are matched through a cache filled by
 * those, by subscriptions, and by a lookup on a miss (the event that missed is withheld: when in
 * doubt, nothing is shown). Worker events go to everyone allowed on the socket, without the
 * current task's name and job where the subscriber may not see that job.
 */
export function createLiveAccess(db: Kysely<Database>): LiveAccess {
  const projectOfJob = new Map<string, string>();
  const loading = new Set<string>();

  function remember(jobId: string, projectId: string): void {
    if (!projectOfJob.has(jobId) && projectOfJob.size >= MAX_REMEMBERED_JOBS) {
      projectOfJob.delete(projectOfJob.keys().next().value as string);
    }
    projectOfJob.set(jobId, projectId);
  }

  function load(jobId: string): void {
    if (loading.has(jobId)) return;
    loading.add(jobId);
    db.selectFrom('jobs')
      .select('project_id')
      .where('id', '=', jobId)
      .executeTakeFirst()
      .then((row) => {
        if (row) remember(jobId, row.project_id);
      })
      .catch(() => undefined)
      .finally(() => loading.delete(jobId));
  }

  async function jobOf(topic: LiveTopic, id: string) {
    const row =
      topic === 'task-log'
        ? await db
            .selectFrom('tasks as t')
            .innerJoin('jobs as j', 'j.id', 't.job_id')
            .select(['j.id', 'j.project_id', 'j.submitter_id'])
            .where('t.id', '=', id)
            .executeTakeFirst()
        : await db
            .selectFrom('jobs')
            .select(['id', 'project_id', 'submitter_id'])
            .where('id', '=', id)
            .executeTakeFirst();
    if (row) remember(row.id, row.project_id);
    return row;
  }

  return {
    canSee(principal, event) {
      if (principal.kind === 'user' && principal.isAdmin) return true;
      if (event.type === 'job-updated') {
        remember(event.job.id, event.job.project.id);
        return canSeeProject(principal, event.job.project.id);
      }
      const jobId = eventJobId(event);
      if (jobId === undefined) return principal.kind === 'user';
      const projectId = projectOfJob.get(jobId);
      if (projectId === undefined) {
        load(jobId);
        return false;
      }
      return canSeeProject(principal, projectId);
    },
    redact(principal, event) {
      if (event.type !== 'worker-updated' || !event.worker.currentTask) return event;
      if (principal.kind === 'user' && principal.isAdmin) return event;
      const jobId = event.worker.currentTask.jobId;
      const projectId = projectOfJob.get(jobId);
      if (projectId === undefined) load(jobId);
      else if (canSeeProject(principal, projectId)) return event;
      return { ...event, worker: { ...event.worker, currentTask: null, busy: true } };
    },
    async authorizeSubscription(principal, topic, id) {
      if (id === undefined || topic === 'jobs' || topic === 'workers') return;
      if (principal.kind === 'user' && principal.isAdmin) return;
      const job = await jobOf(topic, id);
      if (!job) return;
      if (
        !mayAccessJob(
          principal,
          { projectId: job.project_id, submitterId: job.submitter_id },
          'view',
        )
      ) {
        throw new FarmError('forbidden', "you have no role in this job's project");
      }
    },
  };
}
