import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { Job, JobAction, JobStatus } from '../api/api-types';
import { errorLine } from '../api/api-error';
import {
  useLiveReconnect,
  useLiveTopic,
  useLoad,
  useNow,
  usePermissions,
  useServices,
} from '../app-context';
import { ErrorLine } from '../components/error-line';
import { ProgressBar } from '../components/progress-bar';
import { StatusBadge } from '../components/status-badge';
import { nextRowIndex } from '../components/table-keys';
import { JOB_STATUSES } from '../core-rules';
import { formatAgo, formatDateTime } from '../format/time';
import {
  applyJobLite,
  countJobStatuses,
  enabledBulkActions,
  filterJobs,
  sortJobs,
  type JobSort,
  type JobSortColumn,
} from '../jobs/job-list-model';
import { formatJobsQuery, parseJobsQuery } from '../jobs/jobs-query';
import { Link, navigate } from '../routing/router';

const MAX_JOBS = 20_000;

const BULK_ACTIONS: Array<{ action: JobAction; label: string }> = [
  { action: 'cancel', label: 'Cancel' },
  { action: 'pause', label: 'Pause' },
  { action: 'resume', label: 'Resume' },
  { action: 'requeue', label: 'Requeue all' },
  { action: 'requeue-failed', label: 'Requeue failed' },
  { action: 'archive', label: 'Archive' },
  { action: 'delete', label: 'Delete' },
];

const COLUMNS: Array<{ column: JobSortColumn; label: string; className: string }> = [
  { column: 'status', label: 'Status', className: 'col-status' },
  { column: 'name', label: 'Name', className: 'col-name' },
  { column: 'type', label: 'Type', className: 'col-type' },
  { column: 'progress', label: 'Progress', className: 'col-progress' },
  { column: 'priority', label: 'Prio', className: 'col-num' },
  { column: 'project', label: 'Project', className: 'col-project' },
  { column: 'submitter', label: 'Submitter', className: 'col-user' },
  { column: 'updated', label: 'Updated', className: 'col-time' },
];

/** The jobs overview: every job, counts per status, filters, sorting, bulk actions, live. */
export function JobsPage() {
  const { api } = useServices();
  const jobs = useLoad(async (signal) => {
    const all: Job[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.call('get', '/api/v1/jobs', {
        query: { limit: 1000, sort: 'updated', order: 'desc', cursor },
        signal,
      });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && all.length < MAX_JOBS);
    return all;
  }, []);
  const [initial] = useState(() => parseJobsQuery(window.location.search));
  const [statuses, setStatuses] = useState<Set<JobStatus>>(initial.statuses);
  const [text, setText] = useState(initial.text);
  const [sort, setSort] = useState<JobSort>(initial.sort);
  // The filters live in the address, so a filtered view can be bookmarked or shared.
  useEffect(() => {
    const search = formatJobsQuery({ statuses, text, sort });
    if (search !== window.location.search) {
      window.history.replaceState(null, '', window.location.pathname + search);
    }
  }, [statuses, text, sort]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [active, setActive] = useState(-1);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [priority, setPriority] = useState('50');
  const [busy, setBusy] = useState(false);
  const fetching = useRef(new Set<string>());
  const now = useNow();
  const permissions = usePermissions();

  useLiveReconnect(jobs.reload);
  useLiveTopic('jobs', undefined, (event) => {
    if (event.type === 'job-updated') {
      const lite = event.job;
      let known = false;
      jobs.setData((list) =>
        list?.map((job) => {
          if (job.id !== lite.id) return job;
          known = true;
          return applyJobLite(job, lite);
        }),
      );
      if (!known && !fetching.current.has(lite.id)) {
        // A new job: the live event carries only the changing fields, so fetch the whole job once.
        fetching.current.add(lite.id);
        api
          .call('get', '/api/v1/jobs/{jobId}', { path: { jobId: lite.id } })
          .then((job) =>
            jobs.setData((list) =>
              list?.some((j) => j.id === job.id) ? list : [job, ...(list ?? [])],
            ),
          )
          .catch(() => undefined)
          .finally(() => fetching.current.delete(lite.id));
      }
    } else if (event.type === 'job-deleted') {
      jobs.setData((list) => list?.filter((job) => job.id !== event.jobId));
      setSelected((current) => {
        if (!current.has(event.jobId)) return current;
        const next = new Set(current);
        next.delete(event.jobId);
        return next;
      });
    }
  });

  const all = useMemo(() => jobs.data ?? [], [jobs.data]);
  const counts = useMemo(() => countJobStatuses(all), [all]);
  const visible = useMemo(
    () => sortJobs(filterJobs(all, { statuses, text }), sort),
    [all, statuses, text, sort],
  );
  const selectedJobs = useMemo(() => all.filter((job) => selected.has(job.id)), [all, selected]);
  const enabled = useMemo(
    () => enabledBulkActions(selectedJobs.map((job) => job.status)),
    [selectedJobs],
  );

  useEffect(() => {
    if (active >= visible.length) setActive(visible.length - 1);
  }, [active, visible.length]);

  const toggle = useCallback((id: string) => {
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);

  function toggleStatus(status: JobStatus) {
    setStatuses((current) => {
      const next = new Set(current);
      if (next.has(status)) next.delete(status);
      else next.add(status);
      return next;
    });
  }

  function sortBy(column: JobSortColumn) {
    setSort((current) =>
      current.column === column
        ? { column, descending: !current.descending }
        : { column, descending: column === 'updated' || column === 'priority' },
    );
  }

  async function runBulk(action: JobAction) {
    const ids = selectedJobs.map((job) => job.id);
    if (ids.length === 0) return;
    if (
      action === 'delete' &&
      !window.confirm(`Delete ${ids.length} job(s)? This cannot be undone.`)
    ) {
      return;
    }
    setBusy(true);
    setActionError(null);
    setMessage(null);
    try {
      const body =
        action === 'set-priority'
          ? { jobIds: ids, action, priority: Number(priority) }
          : { jobIds: ids, action };
      const result = await api.call('post', '/api/v1/jobs/actions', { body });
      const ok = result.results.filter((r) => r.ok);
      const refused = result.results.filter((r) => !r.ok);
      for (const item of ok) {
        const job = item.job;
        if (!job) continue;
        jobs.setData((list) =>
          action === 'delete'
            ? list?.filter((j) => j.id !== job.id)
            : list?.map((j) => (j.id === job.id ? job : j)),
        );
      }
      const first = refused[0]?.error;
      setMessage(
        `${action}: ${ok.length} done` +
          (refused.length > 0
            ? `, ${refused.length} refused${first ? ` (${first.message})` : ''}`
            : ''),
      );
      if (action === 'delete') setSelected(new Set());
    } catch (error) {
      setActionError(error);
    } finally {
      setBusy(false);
    }
  }

  function onTableKey(event: KeyboardEvent<HTMLTableSectionElement>) {
    const next = nextRowIndex(event.key, active, visible.length, 15);
    if (next !== null) {
      event.preventDefault();
      setActive(next);
      document.getElementById(`job-row-${next}`)?.focus();
      return;
    }
    const job = visible[active];
    if (!job) return;
    if (event.key === 'Enter') {
      event.preventDefault();
      navigate(`/jobs/${job.id}`);
    } else if (event.key === ' ') {
      event.preventDefault();
      toggle(job.id);
    }
  }

  const allVisibleSelected = visible.length > 0 && visible.every((job) => selected.has(job.id));
  const priorityNumber = Number(priority);
  const priorityValid =
    priority !== '' &&
    Number.isInteger(priorityNumber) &&
    priorityNumber >= 0 &&
    priorityNumber <= 100;

  return (
    <section className="page jobs-page" aria-labelledby="jobs-title">
      <div className="page-head">
        <h1 id="jobs-title">Jobs</h1>
        <input
          className="filter"
          data-filter
          type="search"
          placeholder="Filter jobs (press /)"
          aria-label="Filter jobs by name, type, project, submitter or metadata"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <span className="muted num" aria-live="polite">
          {visible.length} of {all.length} jobs
        </span>
      </div>
      <div className="chips" role="group" aria-label="Filter by status">
        {JOB_STATUSES.map((status) => (
          <button
            key={status}
            type="button"
            className={`chip${statuses.has(status) ? ' chip-on' : ''}`}
            aria-pressed={statuses.has(status)}
            onClick={() => toggleStatus(status)}
          >
            <StatusBadge status={status} />
            <span className="chip-count num">{counts.get(status) ?? 0}</span>
          </button>
        ))}
        {statuses.size > 0 && (
          <button type="button" className="btn btn-link" onClick={() => setStatuses(new Set())}>
            Clear
          </button>
        )}
      </div>
      <div className="bulk-bar" role="toolbar" aria-label="Actions on the selected jobs">
        <span className="num bulk-count">{selected.size} selected</span>
        {BULK_ACTIONS.map(({ action, label }) => (
          <button
            key={action}
            type="button"
            className={`btn${action === 'delete' || action === 'cancel' ? ' btn-danger' : ''}`}
            disabled={busy || !permissions.writeJobs || !enabled.has(action)}
            onClick={() => void runBulk(action)}
          >
            {label}
          </button>
        ))}
        <label className="inline-field">
          Priority
          <input
            type="number"
            min={0}
            max={100}
            value={priority}
            onChange={(e) => setPriority(e.target.value)}
            className="num narrow"
          />
        </label>
        <button
          type="button"
          className="btn"
          disabled={
            busy || !permissions.writeJobs || !enabled.has('set-priority') || !priorityValid
          }
          onClick={() => void runBulk('set-priority')}
        >
          Set priority
        </button>
        <span className="bulk-message" role="status">
          {message ?? (actionError ? errorLine(actionError) : '')}
        </span>
      </div>
      <ErrorLine error={jobs.error} prefix="Could not load the jobs" />
      <div className="table-wrap">
        <table className="table jobs-table">
          <thead>
            <tr>
              <th className="col-check">
                <input
                  type="checkbox"
                  aria-label="Select every job shown"
                  checked={allVisibleSelected}
                  onChange={() =>
                    setSelected(allVisibleSelected ? new Set() : new Set(visible.map((j) => j.id)))
                  }
                />
              </th>
              {COLUMNS.map(({ column, label, className }) => (
                <th
                  key={column}
                  className={className}
                  aria-sort={
                    sort.column === column ? (sort.descending ? 'descending' : 'ascending') : 'none'
                  }
                >
                  <button type="button" className="sort-button" onClick={() => sortBy(column)}>
                    {label}
                    <span aria-hidden="true" className="sort-mark">
                      {sort.column === column ? (sort.descending ? '▼' : '▲') : ''}
                    </span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody onKeyDown={onTableKey}>
            {visible.map((job, index) => (
              <tr
                key={job.id}
                id={`job-row-${index}`}
                tabIndex={index === Math.max(active, 0) ? 0 : -1}
                className={`${selected.has(job.id) ? 'row-selected' : ''}${index === active ? ' row-active' : ''}`}
                aria-selected={selected.has(job.id)}
                data-job-id={job.id}
                onFocus={() => setActive(index)}
                onDoubleClick={() => navigate(`/jobs/${job.id}`)}
              >
                <td className="col-check">
                  <input
                    type="checkbox"
                    tabIndex={-1}
                    aria-label={`Select ${job.name}`}
                    checked={selected.has(job.id)}
                    onChange={() => toggle(job.id)}
                  />
                </td>
                <td className="col-status">
                  <StatusBadge status={job.status} compact />
                </td>
                <td className="col-name" title={job.activity || job.name}>
                  <Link href={`/jobs/${job.id}`} tabIndex={-1}>
                    {job.name}
                  </Link>
                </td>
                <td className="col-type">{job.type}</td>
                <td className="col-progress">
                  <ProgressBar
                    done={job.taskCounts.completed}
                    total={job.taskCounts.total}
                    failed={job.taskCounts.failed}
                  />
                </td>
                <td className="col-num num">{job.priority}</td>
                <td className="col-project">{job.project?.name}</td>
                <td className="col-user">{job.submitter?.name ?? '—'}</td>
                <td className="col-time num" title={formatDateTime(job.updated)}>
                  {formatAgo(job.updated, now)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!jobs.loading && visible.length === 0 && (
          <p className="empty">
            {all.length === 0 ? (
              <>
                No jobs yet. <Link href="/submit">Submit one</Link>.
              </>
            ) : (
              'No job matches the filter.'
            )}
          </p>
        )}
      </div>
    </section>
  );
}
