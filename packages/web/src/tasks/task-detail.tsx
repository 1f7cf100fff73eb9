import { useEffect, useRef, useState } from 'react';
import type { JobStatus, Task } from '../api/api-types';
import {
  useLiveReconnect,
  useLiveTopic,
  useLoad,
  usePermissions,
  useServices,
  useThrottled,
} from '../app-context';
import { ErrorLine } from '../components/error-line';
import { StatusBadge } from '../components/status-badge';
import { allowedTaskActions, type TaskAction } from '../core-rules';
import { formatAgo, formatDateTime } from '../format/time';
import { Link } from '../routing/router';
import { appendToTail } from './log-tail';

const TAIL_BYTES = 64 * 1024;

/** One task: its fields, commands, failures, worker, actions and a live tail of its log. */
export function TaskDetail(props: {
  taskId: string;
  jobStatus: JobStatus | undefined;
  /** Bumped by the job page when a live event says this task changed. */
  changed: number;
  onClose(): void;
}) {
  const { api } = useServices();
  const task = useLoad(
    (signal) =>
      api.call('get', '/api/v1/tasks/{taskId}', { path: { taskId: props.taskId }, signal }),
    [props.taskId],
  );
  const reloadTask = useThrottled(task.reload, 500);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    reloadTask();
  }, [props.changed, reloadTask]);

  const [actionError, setActionError] = useState<unknown>(null);
  async function act(action: TaskAction) {
    setActionError(null);
    try {
      const updated = await api.call('post', '/api/v1/tasks/{taskId}/actions', {
        path: { taskId: props.taskId },
        body: { action },
      });
      task.setData(() => updated);
    } catch (error) {
      setActionError(error);
    }
  }

  const t: Task | undefined = task.data;
  const permissions = usePermissions();
  const allowed = t && permissions.writeJobs ? allowedTaskActions(t.status, props.jobStatus) : [];
  return (
    <aside className="panel task-detail" aria-label="Task details">
      <div className="panel-head">
        <h2>Task {t ? <span className="num">#{t.index}</span> : null}</h2>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => props.onClose()}
          aria-label="Close task details"
        >
          Close
        </button>
      </div>
      <ErrorLine error={task.error} />
      {t && (
        <>
          <p className="task-name">{t.name}</p>
          <dl className="facts">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={t.status} />
            </dd>
            <dt>Activity</dt>
            <dd>{t.activity || '—'}</dd>
            <dt>Type</dt>
            <dd>{t.type}</dd>
            <dt>Worker</dt>
            <dd>
              {t.worker ? <Link href={`/workers/${t.worker.id}`}>{t.worker.name}</Link> : '—'}
            </dd>
            <dt>Failed by</dt>
            <dd>
              {t.failedByWorkers.length === 0
                ? 'nobody'
                : t.failedByWorkers.map((w, i) => (
                    <span key={w.id}>
                      {i > 0 ? ', ' : ''}
                      <Link href={`/workers/${w.id}`}>{w.name}</Link>
                    </span>
                  ))}
            </dd>
            <dt>Priority</dt>
            <dd className="num">{t.priority}</dd>
            <dt>Progress</dt>
            <dd className="num">
              {Math.round(t.progress * 100)}%
              {t.steps ? ` (${t.stepsDone ?? 0} of ${t.steps} steps)` : ''}
            </dd>
            <dt>Updated</dt>
            <dd className="num" title={formatDateTime(t.updated)}>
              {formatAgo(t.updated)}
            </dd>
            <dt>Last touched</dt>
            <dd className="num">{t.lastTouched ? formatAgo(t.lastTouched) : 'never'}</dd>
            <dt>Depends on</dt>
            <dd className="num">{t.dependsOn.length} task(s)</dd>
            <dt>Id</dt>
            <dd className="mono small">{t.id}</dd>
          </dl>
          <div className="actions" role="toolbar" aria-label="Task actions">
            <button
              type="button"
              className="btn"
              disabled={!allowed.includes('requeue')}
              onClick={() => void act('requeue')}
            >
              Requeue
            </button>
            <button
              type="button"
              className="btn btn-danger"
              disabled={!allowed.includes('cancel')}
              onClick={() => void act('cancel')}
            >
              Cancel
            </button>
            <Link className="btn" href={`/tasks/${t.id}/log`}>
              Full log
            </Link>
          </div>
          <ErrorLine error={actionError} />
          <h3>Commands</h3>
          <ol className="commands">
            {t.commands.map((command, i) => (
              <li key={i}>
                <span className="mono">{command.name}</span>
                <pre className="params">{JSON.stringify(command.parameters, null, 1)}</pre>
              </li>
            ))}
          </ol>
          <LogTail taskId={t.id} />
        </>
      )}
    </aside>
  );
}

/** The end of a task's log, followed live over the `task-log` topic. */
export function LogTail(props: { taskId: string }) {
  const { api } = useServices();
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [follow, setFollow] = useState(true);
  const preRef = useRef<HTMLPreElement>(null);
  const [generation, setGeneration] = useState(0);
  const pending = useRef<string[] | null>([]);

  useEffect(() => {
    let cancelled = false;
    setText('');
    pending.current = [];
    api
      .raw(`/api/v1/tasks/${encodeURIComponent(props.taskId)}/log?tail=${TAIL_BYTES}`)
      .then((response) => response.text())
      .then((initial) => {
        if (cancelled) return;
        // Lines that arrived live while the tail loaded may already be in it; keep the ones after it.
        const queued = pending.current ?? [];
        pending.current = null;
        let combined = initial;
        for (const lines of queued) if (!initial.endsWith(lines)) combined += lines;
        setText(appendToTail('', combined));
      })
      .catch((e: unknown) => {
        if (!cancelled) setError(e);
      });
    return () => {
      cancelled = true;
    };
  }, [api, props.taskId, generation]);

  useLiveReconnect(() => setGeneration((g) => g + 1));
  useLiveTopic('task-log', props.taskId, (event) => {
    if (event.type !== 'task-log') return;
    if (pending.current) pending.current.push(event.lines);
    else setText((current) => appendToTail(current, event.lines));
  });

  useEffect(() => {
    if (follow && preRef.current) preRef.current.scrollTop = preRef.current.scrollHeight;
  }, [text, follow]);

  return (
    <section className="log-tail" aria-label="Task log">
      <div className="panel-head">
        <h3>Log</h3>
        <label className="inline-field">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow
        </label>
      </div>
      <ErrorLine error={error} />
      <pre ref={preRef} className="log" data-testid="log-tail" tabIndex={0}>
        {text || 'No log yet.'}
      </pre>
    </section>
  );
}
