import type { Job, JobAction, JobLite, JobStatus } from '../api/api-types';
import { JOB_ACTIONS, allowedJobActions } from '../core-rules';

export type JobSortColumn =
  'status' | 'name' | 'type' | 'progress' | 'priority' | 'project' | 'submitter' | 'updated';

export interface JobSort {
  column: JobSortColumn;
  descending: boolean;
}

export interface JobFilter {
  /** Empty: every status but `archived` (archived jobs only show when asked for). */
  statuses: ReadonlySet<JobStatus>;
  /** Matched case-insensitively against name, type, project, submitter and metadata values. */
  text: string;
}

function haystack(job: Job): string {
  return [
    job.name,
    job.type,
    job.project?.name ?? '',
    job.submitter?.name ?? '',
    job.id,
    ...Object.values(job.metadata ?? {}),
  ]
    .join('\u0000')
    .toLowerCase();
}

/** The jobs the filter lets through, in their given order. */
export function filterJobs(jobs: readonly Job[], filter: JobFilter): Job[] {
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  return jobs.filter((job) => {
    if (filter.statuses.size === 0 ? job.status === 'archived' : !filter.statuses.has(job.status)) {
      return false;
    }
    if (words.length === 0) return true;
    const text = haystack(job);
    return words.every((word) => text.includes(word));
  });
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function sortValue(job: Job, column: JobSortColumn): string | number {
  switch (column) {
    case 'status':
      return job.status;
    case 'name':
      return job.name;
    case 'type':
      return job.type;
    case 'progress':
      return job.progress;
    case 'priority':
      return job.priority;
    case 'project':
      return job.project?.name ?? '';
    case 'submitter':
      return job.submitter?.name ?? '';
    case 'updated':
      return Date.parse(job.updated) || 0;
  }
}

/** A sorted copy; ties keep the newest update first so the order is stable across live updates. */
export function sortJobs(jobs: readonly Job[], sort: JobSort): Job[] {
  const sign = sort.descending ? -1 : 1;
  return [...jobs].sort((a, b) => {
    const x = sortValue(a, sort.column);
    const y = sortValue(b, sort.column);
    const order =
      typeof x === 'number' && typeof y === 'number'
        ? x - y
        : collator.compare(String(x), String(y));
    if (order !== 0) return order * sign;
    return (Date.parse(b.updated) || 0) - (Date.parse(a.updated) || 0) || a.id.localeCompare(b.id);
  });
}

/**
 * The bulk actions the selection allows: an action is enabled only when core's table allows it
 * for the status of every selected job (so the manager will accept it for each of them).
 */
export function enabledBulkActions(statuses: readonly JobStatus[]): Set<JobAction> {
  const enabled = new Set<JobAction>();
  if (statuses.length === 0) return enabled;
  for (const action of JOB_ACTIONS) {
    if (statuses.every((status) => allowedJobActions(status).includes(action))) {
      enabled.add(action);
    }
  }
  return enabled;
}

/** A job with the changing fields of a live update applied. */
export function applyJobLite(job: Job, lite: JobLite): Job {
  return {
    ...job,
    name: lite.name,
    type: lite.type,
    priority: lite.priority,
    status: lite.status,
    activity: lite.activity,
    project: lite.project,
    taskCounts: lite.taskCounts,
    progress: lite.progress,
    updated: lite.updated,
    allowedActions: lite.allowedActions,
  };
}

/** How many of `jobs` are in each status. */
export function countJobStatuses(jobs: readonly Job[]): Map<JobStatus, number> {
  const counts = new Map<JobStatus, number>();
  for (const job of jobs) counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
  return counts;
}
