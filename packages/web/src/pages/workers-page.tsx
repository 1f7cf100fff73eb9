import { useMemo, useState, type KeyboardEvent } from 'react';
import type { HostStats, Worker, WorkerStatusRequest, WorkerSummary } from '../api/api-types';
import {
  useLiveReconnect,
  useLiveTopic,
  useLoad,
  useNow,
  usePermissions,
  useServices,
} from '../app-context';
import { ErrorLine } from '../components/error-line';
import { StatusBadge } from '../components/status-badge';
import { nextRowIndex } from '../components/table-keys';
import { formatAgo, formatBytes, formatDateTime } from '../format/time';
import { Link, navigate } from '../routing/router';
import {
  cpuValues,
  memoryFraction,
  memoryValues,
  recordWorkerSample,
  workerHistory,
} from '../workers/host-stats-history';
import { SleepScheduleEditor } from '../workers/sleep-schedule-editor';
import { Sparkline } from '../workers/sparkline';

function requestText(request: WorkerSummary['statusRequest']): string {
  if (!request) return '';
  const what =
    request.status === 'offline'
      ? 'shut down'
      : request.status === 'awake'
        ? 'wake'
        : request.status === 'asleep'
          ? 'sleep'
          : request.status;
  return `${request.lazy ? 'after task: ' : 'now: '}${what}`;
}

/** The workers: status, current task, platform, tags, last seen; one worker's stats and controls. */
export function WorkersPage(props: { workerId: string | null }) {
  const { api } = useServices();
  const workers = useLoad((signal) => api.call('get', '/api/v1/workers', { signal }), []);
  const [text, setText] = useState('');
  const [active, setActive] = useState(-1);
  // Bumped per host-stats sample; the samples themselves live in the per-worker ring buffers.
  const [statsVersion, setStatsVersion] = useState(0);
  const now = useNow();
  useLiveReconnect(workers.reload);
  useLiveTopic('workers', undefined, (event) => {
    if (event.type === 'worker-stats') {
      recordWorkerSample(event.workerId, event.hostStats);
      setStatsVersion((v) => v + 1);
    } else if (event.type === 'worker-updated') {
      const w = event.worker;
      workers.setData((list) => {
        if (!list) return list;
        const known = list.items.some((item) => item.id === w.id);
        const items = known
          ? list.items.map((item) => (item.id === w.id ? w : item))
          : [...list.items, w];
        return { items: items.sort((a, b) => a.name.localeCompare(b.name)) };
      });
    } else if (event.type === 'worker-deleted') {
      workers.setData((list) =>
        list ? { items: list.items.filter((item) => item.id !== event.workerId) } : list,
      );
    }
  });
  const visible = useMemo(() => {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    return (workers.data?.items ?? []).filter((w) => {
      const hay = [w.name, w.status, w.platform, ...w.tags, w.currentTask?.name ?? '']
        .join(' ')
        .toLowerCase();
      return words.every((word) => hay.includes(word));
    });
  }, [workers.data, text]);

  function onKey(event: KeyboardEvent<HTMLTableSectionElement>) {
    const next = nextRowIndex(event.key, active, visible.length);
    if (next !== null) {
      event.preventDefault();
      setActive(next);
      document.getElementById(`worker-row-${next}`)?.focus();
    } else if (event.key === 'Enter' && visible[active]) {
      navigate(`/workers/${visible[active].id}`);
    }
  }

  return (
    <section
      className={`page workers-page${props.workerId ? ' with-detail' : ''}`}
      aria-labelledby="workers-title"
    >
      <div className="page-head">
        <h1 id="workers-title">Workers</h1>
        <input
          className="filter"
          data-filter
          type="search"
          placeholder="Filter workers (press /)"
          aria-label="Filter workers"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <span className="muted num">
          {visible.length} of {workers.data?.items.length ?? 0} workers
        </span>
      </div>
      <ErrorLine error={workers.error} prefix="Could not load the workers" />
      <div className="workers-layout">
        <div className="table-wrap">
          <table className="table workers-table">
            <thead>
              <tr>
                <th className="col-status">Status</th>
                <th>Name</th>
                <th>Requested</th>
                <th>Current task</th>
                <th>Platform</th>
                <th>Tags</th>
                <th className="col-spark">CPU</th>
                <th className="col-spark">Memory</th>
                <th>Version</th>
                <th className="col-time">Last seen</th>
              </tr>
            </thead>
            <tbody onKeyDown={onKey}>
              {visible.map((w, index) => (
                <tr
                  key={w.id}
                  id={`worker-row-${index}`}
                  data-worker-id={w.id}
                  tabIndex={index === Math.max(active, 0) ? 0 : -1}
                  className={w.id === props.workerId ? 'row-active' : ''}
                  onFocus={() => setActive(index)}
                  onClick={() => navigate(`/workers/${w.id}`)}
                >
                  <td className="col-status">
                    <StatusBadge status={w.status} />
                  </td>
                  <td>
                    <Link href={`/workers/${w.id}`} tabIndex={-1}>
                      {w.name}
                    </Link>
                  </td>
                  <td className="muted">{requestText(w.statusRequest)}</td>
                  <td className="col-name">
                    {w.currentTask ? (
                      <Link
                        href={`/jobs/${w.currentTask.jobId}/tasks/${w.currentTask.id}`}
                        tabIndex={-1}
                      >
                        {w.currentTask.name}
                      </Link>
                    ) : w.busy ? (
                      <span className="muted" title="A task of a project you have no role in">
                        busy
                      </span>
                    ) : (
                      ''
                    )}
                  </td>
                  <td>{w.platform}</td>
                  <td>{w.tags.join(', ')}</td>
                  <HostStatsCells workerId={w.id} version={statsVersion} />
                  <td className="num">{w.version}</td>
                  <td className="col-time num" title={formatDateTime(w.lastSeen)}>
                    {formatAgo(w.lastSeen, now)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {!workers.loading && visible.length === 0 && <p className="empty">No workers.</p>}
        </div>
        {props.workerId && (
          <WorkerDetail
            key={props.workerId}
            workerId={props.workerId}
            summary={workers.data?.items.find((w) => w.id === props.workerId)}
            statsVersion={statsVersion}
          />
        )}
      </div>
    </section>
  );
}

/** CPU and memory of one worker over its recent heartbeats, as two table cells. */
function HostStatsCells(props: { workerId: string; version: number }) {
  const history = workerHistory(props.workerId);
  const latest = history[history.length - 1];
  return (
    <>
      <td className="col-spark">
        {latest ? (
          <Sparkline
            label="CPU use"
            values={cpuValues(history)}
            latest={`${Math.round(latest.cpuPercent)}%`}
            width={56}
            height={16}
          />
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="col-spark">
        {latest ? (
          <Sparkline
            label="Memory use"
            values={memoryValues(history)}
            latest={`${Math.round(memoryFraction(latest) * 100)}%`}
            width={56}
            height={16}
          />
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </>
  );
}

function WorkerDetail(props: {
  workerId: string;
  summary: WorkerSummary | undefined;
  statsVersion: number;
}) {
  const { api } = useServices();
  const worker = useLoad(
    async (signal) => {
      const w = await api.call('get', '/api/v1/workers/{workerId}', {
        path: { workerId: props.workerId },
        signal,
      });
      // The stored sample starts the graph; later ones come with the live worker events.
      recordWorkerSample(w.id, w.hostStats);
      return w;
    },
    [props.workerId, props.summary?.status, props.summary?.statusRequest?.status],
  );
  const history: readonly HostStats[] = workerHistory(props.workerId);

  const [lazy, setLazy] = useState(true);
  const permissions = usePermissions();
  const manage = permissions.manageWorkers;
  const [error, setError] = useState<unknown>(null);
  const [tags, setTags] = useState<string | null>(null);
  async function request(status: WorkerStatusRequest) {
    setError(null);
    try {
      const updated = await api.call('post', '/api/v1/workers/{workerId}/status-request', {
        path: { workerId: props.workerId },
        body: { status, lazy: status === 'awake' ? false : lazy },
      });
      worker.setData(() => updated);
    } catch (e) {
      setError(e);
    }
  }
  async function remove() {
    if (!window.confirm('Remove this worker? Its token stops working.')) return;
    setError(null);
    try {
      await api.call('delete', '/api/v1/workers/{workerId}', {
        path: { workerId: props.workerId },
      });
      navigate('/workers');
    } catch (e) {
      setError(e);
    }
  }
  async function revokeToken() {
    if (!window.confirm("Revoke this worker's token? It is disconnected and must register again."))
      return;
    setError(null);
    try {
      await api.call('post', '/api/v1/workers/{workerId}/revoke-token', {
        path: { workerId: props.workerId },
      });
      worker.reload();
    } catch (e) {
      setError(e);
    }
  }
  async function saveTags() {
    if (tags === null) return;
    setError(null);
    try {
      const updated = await api.call('put', '/api/v1/workers/{workerId}/tags', {
        path: { workerId: props.workerId },
        body: {
          tags: tags
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean),
        },
      });
      worker.setData(() => updated);
      setTags(null);
    } catch (e) {
      setError(e);
    }
  }

  const w: Worker | undefined = worker.data;
  const latest = history[history.length - 1];
  return (
    <aside className="panel worker-detail" aria-label="Worker details">
      <div className="panel-head">
        <h2>{w?.name ?? 'Worker'}</h2>
        <Link className="btn btn-small" href="/workers" aria-label="Close worker details">
          Close
        </Link>
      </div>
      <ErrorLine error={worker.error ?? error} />
      {w && (
        <>
          <dl className="facts">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={w.status} />{' '}
              <span className="muted">{requestText(w.statusRequest)}</span>
            </dd>
            <dt>Current task</dt>
            <dd>
              {w.currentTask ? (
                <Link href={`/jobs/${w.currentTask.jobId}/tasks/${w.currentTask.id}`}>
                  {w.currentTask.name}
                </Link>
              ) : w.busy ? (
                <span className="muted">busy (a task of a project you have no role in)</span>
              ) : (
                '—'
              )}
            </dd>
            <dt>Platform</dt>
            <dd>{w.platform}</dd>
            <dt>Task types</dt>
            <dd>{w.taskTypes.join(', ')}</dd>
            <dt>Address</dt>
            <dd className="mono">{w.address}</dd>
            <dt>Version</dt>
            <dd className="num">{w.version}</dd>
            <dt>Last seen</dt>
            <dd className="num">{formatAgo(w.lastSeen)}</dd>
            <dt>CPU</dt>
            <dd>
              <Sparkline
                label="CPU use"
                values={cpuValues(history)}
                latest={latest ? `${Math.round(latest.cpuPercent)}%` : '—'}
              />
            </dd>
            <dt>Memory</dt>
            <dd>
              <Sparkline
                label="Memory use"
                values={memoryValues(history)}
                latest={
                  latest
                    ? `${formatBytes(latest.memoryUsedBytes)} of ${formatBytes(latest.memoryTotalBytes)}`
                    : '—'
                }
              />
            </dd>
            <dt>Load</dt>
            <dd className="num">{latest ? latest.load1.toFixed(2) : '—'}</dd>
            <dt>Disk free</dt>
            <dd className="num">{latest ? formatBytes(latest.diskFreeBytes) : '—'}</dd>
            <dt>Tags</dt>
            <dd>
              <input
                aria-label="Tags, separated by commas"
                value={tags ?? w.tags.join(', ')}
                onChange={(e) => setTags(e.target.value)}
              />{' '}
              <button
                type="button"
                className="btn btn-small"
                disabled={tags === null}
                onClick={() => void saveTags()}
              >
                Save tags
              </button>
            </dd>
          </dl>
          <fieldset className="worker-actions">
            <legend>Actions</legend>
            <div role="radiogroup" aria-label="When" className="row-fields">
              <label className="inline-field">
                <input type="radio" name="when" checked={lazy} onChange={() => setLazy(true)} />
                After the current task
              </label>
              <label className="inline-field">
                <input type="radio" name="when" checked={!lazy} onChange={() => setLazy(false)} />
                Now
              </label>
            </div>
            <div className="actions">
              <button
                type="button"
                className="btn"
                disabled={!manage}
                onClick={() => void request('awake')}
              >
                Wake up
              </button>
              <button
                type="button"
                className="btn"
                disabled={!manage}
                onClick={() => void request('asleep')}
              >
                Sleep
              </button>
              <button
                type="button"
                className="btn"
                disabled={!manage}
                onClick={() => void request('restart')}
              >
                Restart
              </button>
              <button
                type="button"
                className="btn btn-danger"
                disabled={!manage}
                onClick={() => void request('offline')}
              >
                Shut down
              </button>
              <button
                type="button"
                className="btn btn-danger"
                disabled={!manage || w.status !== 'offline'}
                title="Only offline workers can be removed"
                onClick={() => void remove()}
              >
                Remove
              </button>
              <button
                type="button"
                className="btn btn-danger"
                disabled={!manage}
                title="The worker is disconnected and must register again"
                onClick={() => void revokeToken()}
              >
                Revoke token
              </button>
            </div>
          </fieldset>
          <SleepScheduleEditor workerId={w.id} schedule={w.sleepSchedule} onSaved={worker.reload} />
        </>
      )}
    </aside>
  );
}
