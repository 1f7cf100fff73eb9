import type { JobStatus } from '../api/api-types';
import { isJobStatus } from '../core-rules';
import type { JobSort, JobSortColumn } from './job-list-model';

const SORT_COLUMNS: readonly JobSortColumn[] = [
  'status',
  'name',
  'type',
  'progress',
  'priority',
  'project',
  'submitter',
  'updated',
];

export interface JobsQuery {
  statuses: Set<JobStatus>;
  text: string;
  sort: JobSort;
}

/** Reads the jobs overview's filters from a query string (`?status=failed,active&q=shot&sort=-updated`). */
export function parseJobsQuery(search: string): JobsQuery {
  const params = new URLSearchParams(search);
  const statuses = new Set<JobStatus>(
    (params.get('status') ?? '').split(',').filter((s): s is JobStatus => isJobStatus(s)),
  );
  const rawSort = params.get('sort') ?? '-updated';
  const descending = rawSort.startsWith('-');
  const column = rawSort.replace(/^-/, '') as JobSortColumn;
  return {
    statuses,
    text: params.get('q') ?? '',
    sort: SORT_COLUMNS.includes(column)
      ? { column, descending }
      : { column: 'updated', descending: true },
  };
}

/** The query string for the filters, so a filtered view can be bookmarked and shared. */
export function formatJobsQuery(query: JobsQuery): string {
  const params = new URLSearchParams();
  if (query.statuses.size > 0) params.set('status', [...query.statuses].join(','));
  if (query.text) params.set('q', query.text);
  const sort = `${query.sort.descending ? '-' : ''}${query.sort.column}`;
  if (sort !== '-updated') params.set('sort', sort);
  const text = params.toString();
  return text ? `?${text}` : '';
}
