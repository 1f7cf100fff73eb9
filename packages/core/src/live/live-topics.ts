import type { LiveEvent } from '../generated/schema-types';

/** An event the manager broadcasts to subscribers (not an answer to one client). */
export type BroadcastEvent = Exclude<LiveEvent, { type: 'subscribed' | 'error' }>;

/** What a live client can subscribe to; `job` and `task-log` need an id, `last-rendered` may take one. */
export type LiveTopic = 'jobs' | 'job' | 'task-log' | 'workers' | 'last-rendered';

/** Topics that need an `id` (the job's or the task's). */
export const TOPICS_NEEDING_ID: ReadonlySet<string> = new Set(['job', 'task-log']);

/** The subscription key of a topic: `jobs`, `job:<jobId>`, `task-log:<taskId>`, `last-rendered[:<jobId>]`. */
export function topicKey(topic: LiveTopic, id?: string): string {
  return id === undefined || !(TOPICS_NEEDING_ID.has(topic) || topic === 'last-rendered')
    ? topic
    : `${topic}:${id}`;
}

/** The job an event concerns, if any. */
export function eventJobId(event: BroadcastEvent): string | undefined {
  switch (event.type) {
    case 'job-updated':
      return event.job.id;
    case 'job-deleted':
    case 'task-updated':
    case 'tasks-bulk-updated':
    case 'task-log':
    case 'last-rendered':
      return event.jobId;
    default:
      return undefined;
  }
}

/**
 * The subscription keys whose subscribers receive `event`: job changes go to `jobs` and the job's
 * own topic, task changes to their job's topic, log lines to their task's, worker changes to
 * `workers`, images to `last-rendered`, `last-rendered:<jobId>` and the job's topic.
 */
export function topicKeysForEvent(event: LiveEvent): string[] {
  switch (event.type) {
    case 'job-updated':
      return ['jobs', `job:${event.job.id}`];
    case 'job-deleted':
      return ['jobs', `job:${event.jobId}`];
    case 'task-updated':
    case 'tasks-bulk-updated':
      return [`job:${event.jobId}`];
    case 'task-log':
      return [`task-log:${event.taskId}`];
    case 'worker-updated':
    case 'worker-stats':
    case 'worker-deleted':
      return ['workers'];
    case 'last-rendered':
      return ['last-rendered', `last-rendered:${event.jobId}`, `job:${event.jobId}`];
    default:
      return [];
  }
}
