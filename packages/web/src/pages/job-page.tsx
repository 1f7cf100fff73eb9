import { useCallback, useMemo, useRef, useState } from 'react';
import type { Job, JobAction, TaskStatus } from '../api/api-types';
import { errorLine } from '../api/api-error';
import {
  useLiveReconnect,
  useLiveTopic,
  useLoad,
  usePermissions,
  useServices,
  useThrottled,
} from '../app-context';
import { ErrorLine } from '../components/error-line';
import { ProgressBar } from '../components/progress-bar';
import { StatusBadge } from '../components/status-badge';
import { TASK_STATUSES, allowedJobActions, type TaskAction } from '../core-rules';
import { JobInfo } from '../jobs/job-info';
import { applyJobLite } from '../jobs/job-list-model';
import { navigate } from '../routing/router';
import { TaskDetail } from '../tasks/task-detail';
import { TaskTable } from '../tasks/task-table';
import {
  countTaskRows,
  enabledTaskActions,
  taskCountsMap,
  visibleTaskRows,
  type TaskSort,
  type TaskSortColumn,
  type TaskStore,
} from '../tasks/task-table-model';
import { useJobTasks } from '../tasks/use-job-tasks';

const JOB_ACTION_LABELS: Array<{ action: JobAction; label: string }> = [
  { action: 'cancel', label: 'Cancel' },
  { action: 'pause', label: 'Pause' },
  { action: 'resume', label: 'Resume' },
  { action: 'requeue', label: 'Requeue all' },
  { action: 'requeue-failed', label: 'Requeue failed' },
  { action: 'archive', label: 'Archive' },
  { action: 'delete', label: 'Delete' },
];

/** One job: its actions and information, task counts first, then every task, then one task. */
export function JobPage(props: { jobId: string; taskId: string | null }) {
  const { api } = useServices();
  const { jobId, taskId } = props;
  const job = useLoad(
    (signal) => api.call('get', '/api/v1/jobs/{jobId}', { path: { jobId }, signal }),
    [jobId],
  );
  const tasks = useJobTasks(api, jobId);
  const { version } = tasks;
  const [deleted, setDeleted] = useState(false);
  const [imageVersion, setImageVersion] = useState(0);
  const [taskChanged, setTaskChanged] = useState(0);
  const refetchJob = useThrottled(job.reload, 1000);

  useLiveReconnect(() => {
    job.reload();
    tasks.refresh();
  });
  useLiveTopic('job', jobId, (event) => {
    switch (event.type) {
      case 'job-updated':
        job.setData((current) => (current ? applyJobLite(current, event.job) : current));
        break;
      case 'job-deleted':
        setDeleted(true);
        break;
      case 'task-updated': {
        tasks.update(event.task);
        if (event.task.id === taskId) setTaskChanged((n) => n + 1);
        break;
      }
      case 'tasks-bulk-updated':
        tasks.refresh();
        refetchJob();
        if (taskId && (!event.taskIds || event.taskIds.includes(taskId)))
          setTaskChanged((n) => n + 1);
        break;
      case 'last-rendered':
        setImageVersion((v) => v + 1);
        break;
      default:
        break;
    }
  });

  const [statuses, setStatuses] = useState<Set<TaskStatus>>(new Set());
  const [text, setText] = useState('');
  const [sort, setSort] = useState<TaskSort>({ column: 'index', descending: false });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [locked, setLocked] = useState(false);
  const lockedIds = useRef<string[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const permissions = usePermissions();

  const store: TaskStore | undefined = tasks.store;
  const liveRows = useMemo(
    () => (store ? visibleTaskRows(store, { statuses, text }, sort) : []),
    // `version` marks in-place live changes to the store.
    [store, statuses, text, sort, version],
  );
  // "Lock selection": the tasks shown stay put while statuses change under them, so a task being
  // worked on does not slip out of a status filter mid-selection. Kept as ids, since a refetch
  // brings a new store whose row numbers need not match.
  if (!locked || !store) lockedIds.current = null;
  else if (lockedIds.current === null)
    lockedIds.current = liveRows.map((row) => store.columns.ids[row] as string);
  const locking = lockedIds.current;
  const lockedRows = useMemo(() => {
    if (!locking || !store) return null;
    const list: number[] = [];
    for (const id of locking) {
      const row = store.rowOf.get(id);
      if (row !== undefined) list.push(row);
    }
    return list;
  }, [locking, store]);
  const rows = lockedRows ?? liveRows;
  // Until every task is in, the counts come from the job (the first page holds only a few).
  const counts = useMemo(
    () => (store && tasks.complete ? countTaskRows(store) : taskCountsMap(job.data?.taskCounts)),
    [store, tasks.complete, version, job.data],
  );

  const selectedStatuses = useMemo(() => {
    if (!store) return [];
    const list: TaskStatus[] = [];
    for (const id of selected) {
      const row = store.rowOf.get(id);
      if (row !== undefined) list.push(store.columns.statuses[row] as TaskStatus);
    }
    return list;
  }, [store, selected, version]);
  const enabled = enabledTaskActions(selectedStatuses, job.data?.status);

  const toggle = useCallback((id: string) => {
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);
  const open = useCallback(
    (id: string) => navigate(`/jobs/${jobId}/tasks/${id}`, { replace: true }),
    [jobId],
  );
  const close = useCallback(() => navigate(`/jobs/${jobId}`, { replace: true }), [jobId]);

  function sortBy(column: TaskSortColumn) {
    setSort((current) =>
      current.column === column
        ? { column, descending: !current.descending }
        : { column, descending: false },
    );
  }

  function toggleStatus(status: TaskStatus) {
    setStatuses((current) => {
      const next = new Set(current);
      if (next.has(status)) next.delete(status);
      else next.add(status);
      return next;
    });
  }

  function selectShown() {
    if (!store) return;
    setSelected(new Set(rows.map((row) => store.columns.ids[row] as string)));
  }

  async function batch(action: TaskAction) {
    const ids = [...selected];
    if (ids.length === 0) return;
    setBusy(true);
    setMessage(null);
    try {
      let done = 0;
      let refused = 0;
      let firstRefusal = '';
      // The manager takes bounded batches; 1,000 ids a request keeps each body small.
      for (let i = 0; i < ids.length; i += 1000) {
        const result = await api.call('post', '/api/v1/tasks/actions', {
          body: { taskIds: ids.slice(i, i + 1000), action },
        });
        for (const item of result.results) {
          if (item.ok) {
            done += 1;
            if (item.task) tasks.update(item.task);
          } else {
            refused += 1;
            firstRefusal ||= item.error?.message ?? '';
          }
        }
      }
      setMessage(
        `${action}: ${done} done${refused ? `, ${refused} refused (${firstRefusal})` : ''}`,
      );
      refetchJob();
    } catch (error) {
      setMessage(errorLine(error));
    } finally {
      setBusy(false);
    }
  }

  async function jobAction(action: JobAction, priority?: number) {
    if (action === 'delete' && !window.confirm('Delete this job? This cannot be undone.')) return;
    setMessage(null);
    try {
      const updated = await api.call('post', '/api/v1/jobs/{jobId}/actions', {
        path: { jobId },
        body: priority === undefined ? { action } : { action, priority },
      });
      if (priority !== undefined) setPriority(null);
      if (action === 'delete') navigate('/jobs');
      else job.setData(() => updated);
    } catch (error) {
      setMessage(errorLine(error));
    }
  }

  const j: Job | undefined = job.data;
  const allowed = j ? allowedJobActions(j.status) : [];
  // Artists act on their own jobs only, managers on every job of their project (issue 7).
  const mayControl = j ? permissions.controlJob(j) : permissions.writeJobs;
  // null: show the job's own priority (which live updates may change).
  const [priority, setPriority] = useState<string | null>(null);
  const priorityText = priority ?? String(j?.priority ?? '');
  const priorityNumber = Number(priorityText);
  const priorityValid =
    priorityText !== '' &&
    Number.isInteger(priorityNumber) &&
    priorityNumber >= 0 &&
    priorityNumber <= 100;
  return (
    <section className={`page job-page${taskId ? ' with-task' : ''}`} aria-labelledby="job-title">
      <div className="page-head">
        {j && <StatusBadge status={j.status} />}
        <h1 id="job-title" className="job-title" title={j?.name}>
          {j?.name ?? 'Job'}
        </h1>
        {j && (
          <ProgressBar
            done={j.taskCounts.completed}
            total={j.taskCounts.total}
            failed={j.taskCounts.failed}
          />
        )}
        <div className="actions" role="toolbar" aria-label="Job actions">
          {JOB_ACTION_LABELS.map(({ action, label }) => (
            <button
              key={action}
              type="button"
              className={`btn${action === 'delete' || action === 'cancel' ? ' btn-danger' : ''}`}
              disabled={!mayControl || !allowed.includes(action)}
              onClick={() => void jobAction(action)}
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
              value={priorityText}
              onChange={(e) => setPriority(e.target.value)}
              className="num narrow"
              aria-label="Job priority (0 to 100)"
            />
          </label>
          <button
            type="button"
            className="btn"
            disabled={
              !mayControl ||
              !allowed.includes('set-priority') ||
              !priorityValid ||
              priority === null
            }
            onClick={() => void jobAction('set-priority', priorityNumber)}
          >
            Set priority
          </button>
        </div>
      </div>
      {deleted && (
        <p className="error-line" role="alert">
          This job was deleted.
        </p>
      )}
      <ErrorLine error={job.error} prefix="Could not load the job" />
      <div
        className="chips task-counts"
        role="group"
        aria-label="Tasks per status; click to filter"
      >
        <span className="num muted">
          {(tasks.complete ? store?.columns.ids.length : undefined) ?? j?.taskCounts.total ?? '…'}{' '}
          tasks:
        </span>
        {TASK_STATUSES.map((status) => (
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
      </div>
      <div className="job-layout">
        {j && <JobInfo job={j} imageVersion={imageVersion} />}
        <div className="tasks-area">
          <div className="bulk-bar" role="toolbar" aria-label="Task selection and batch actions">
            <input
              className="filter"
              data-filter
              type="search"
              placeholder="Filter (/), #12 = index"
              aria-label="Filter tasks by name, type or worker"
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
            <span className="num muted shown-count" data-testid="tasks-shown">
              {tasks.complete || !store
                ? `${rows.length} shown`
                : `first ${rows.length}, loading all…`}
            </span>
            <button type="button" className="btn" onClick={selectShown}>
              Select shown
            </button>
            <button
              type="button"
              className="btn"
              disabled={selected.size === 0}
              onClick={() => setSelected(new Set())}
            >
              Clear
            </button>
            <label
              className="inline-field"
              title="Keep the rows in place while their statuses change"
            >
              <input
                type="checkbox"
                checked={locked}
                onChange={(e) => setLocked(e.target.checked)}
              />
              Lock selection
            </label>
            <span className="num bulk-count">{selected.size} selected</span>
            <button
              type="button"
              className="btn"
              disabled={busy || !mayControl || !enabled.has('requeue')}
              onClick={() => void batch('requeue')}
            >
              Requeue
            </button>
            <button
              type="button"
              className="btn btn-danger"
              disabled={busy || !mayControl || !enabled.has('cancel')}
              onClick={() => void batch('cancel')}
            >
              Cancel
            </button>
            <span className="bulk-message" role="status">
              {message ?? ''}
            </span>
          </div>
          <ErrorLine error={tasks.error} prefix="Could not load the tasks" />
          {store ? (
            <TaskTable
              store={store}
              rows={rows}
              sort={sort}
              onSort={sortBy}
              selected={selected}
              onToggle={toggle}
              activeTaskId={taskId}
              onOpen={open}
              onClose={close}
            />
          ) : (
            <p className="muted">{tasks.loading ? 'Loading tasks…' : ''}</p>
          )}
        </div>
        {taskId && (
          <TaskDetail
            key={taskId}
            taskId={taskId}
            jobStatus={j?.status}
            changed={taskChanged}
            onClose={close}
          />
        )}
      </div>
    </section>
  );
}
