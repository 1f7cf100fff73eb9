import { useState } from 'react';
import { useLoad, useServices } from '../app-context';
import { ErrorLine } from '../components/error-line';
import { Link } from '../routing/router';

/** A task's whole log (browsers cannot send the token on a plain link, so it is fetched here). */
export function TaskLogPage(props: { taskId: string }) {
  const { api } = useServices();
  const task = useLoad(
    (signal) =>
      api.call('get', '/api/v1/tasks/{taskId}', { path: { taskId: props.taskId }, signal }),
    [props.taskId],
  );
  const log = useLoad(
    async (signal) =>
      (await api.raw(`/api/v1/tasks/${encodeURIComponent(props.taskId)}/log`, { signal })).text(),
    [props.taskId],
  );
  const [downloadError, setDownloadError] = useState<unknown>(null);
  function download() {
    if (log.data === undefined) return;
    try {
      const url = URL.createObjectURL(new Blob([log.data], { type: 'text/plain' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `task-${props.taskId}.log`;
      a.click();
      window.setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (e) {
      setDownloadError(e);
    }
  }
  const t = task.data;
  return (
    <section className="page log-page" aria-labelledby="log-title">
      <div className="page-head">
        <h1 id="log-title">Log of {t ? t.name : 'task'}</h1>
        {t && <Link href={`/jobs/${t.jobId}/tasks/${t.id}`}>Back to the task</Link>}
        <button type="button" className="btn" onClick={log.reload}>
          Reload
        </button>
        <button type="button" className="btn" onClick={download} disabled={log.data === undefined}>
          Download
        </button>
      </div>
      <ErrorLine error={task.error ?? log.error ?? downloadError} />
      <pre className="log log-full" tabIndex={0} data-testid="full-log">
        {log.data === undefined ? 'Loading…' : log.data || 'The log is empty.'}
      </pre>
    </section>
  );
}
