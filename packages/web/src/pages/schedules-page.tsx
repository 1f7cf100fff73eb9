import { useState } from 'react';
import { useLoad, useServices } from '../app-context';
import { ErrorLine } from '../components/error-line';
import { formatAgo, formatDateTime } from '../format/time';
import { Link } from '../routing/router';
import { describeScheduleTiming } from '../schedules/schedule-model';

/** Schedules: the list with their timing and next run, enable/disable, and each one's run history. */
export function SchedulesPage() {
  const { api } = useServices();
  const list = useLoad((signal) => api.call('get', '/api/v1/schedules', { signal }), []);
  const [selected, setSelected] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const act = async (work: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await work();
      list.reload();
    } catch (error) {
      setActionError(error);
    }
  };

  const items = list.data?.items ?? [];
  const chosen = items.find((s) => s.id === selected);
  return (
    <section className="page schedules-page" aria-labelledby="schedules-title">
      <div className="page-head">
        <h1 id="schedules-title">Schedules</h1>
      </div>
      <p className="muted">
        Recurring jobs. Create one with <code>farm schedule add</code> or the API (
        <code>POST /api/v1/schedules</code>).
      </p>
      <ErrorLine error={list.error} />
      <ErrorLine error={actionError} />
      <table className="table">
        <thead>
          <tr>
            <th>Name</th>
            <th>When</th>
            <th>Time zone</th>
            <th>Job type</th>
            <th>Enabled</th>
            <th>Next run</th>
            <th>Last run</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {items.map((schedule) => (
            <tr key={schedule.id} className={schedule.id === selected ? 'row-selected' : undefined}>
              <td>{schedule.name}</td>
              <td className="mono">{describeScheduleTiming(schedule)}</td>
              <td>{schedule.timeZone}</td>
              <td>{schedule.template.type}</td>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Enabled: ${schedule.name}`}
                  checked={schedule.enabled}
                  onChange={(e) =>
                    void act(() =>
                      api.call('patch', '/api/v1/schedules/{scheduleId}', {
                        path: { scheduleId: schedule.id },
                        body: { enabled: e.target.checked },
                      }),
                    )
                  }
                />
              </td>
              <td>{schedule.nextRunAt ? formatDateTime(schedule.nextRunAt) : '-'}</td>
              <td>{schedule.lastRunAt ? formatAgo(schedule.lastRunAt) : 'never'}</td>
              <td>
                <button
                  type="button"
                  className="btn btn-small"
                  onClick={() => setSelected(schedule.id)}
                >
                  History
                </button>{' '}
                <button
                  type="button"
                  className="btn btn-small btn-danger"
                  onClick={() => {
                    if (!window.confirm(`Remove the schedule "${schedule.name}"?`)) return;
                    void act(async () => {
                      await api.call('delete', '/api/v1/schedules/{scheduleId}', {
                        path: { scheduleId: schedule.id },
                      });
                      if (selected === schedule.id) setSelected(null);
                    });
                  }}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!list.loading && items.length === 0 && <p className="empty">No schedules yet.</p>}
      {selected && (
        <ScheduleRuns key={selected} scheduleId={selected} name={chosen?.name ?? selected} />
      )}
    </section>
  );
}

function ScheduleRuns(props: { scheduleId: string; name: string }) {
  const { api } = useServices();
  const runs = useLoad(
    (signal) =>
      api.call('get', '/api/v1/schedules/{scheduleId}/runs', {
        path: { scheduleId: props.scheduleId },
        query: { limit: 50 },
        signal,
      }),
    [props.scheduleId],
  );
  const items = runs.data?.items ?? [];
  return (
    <div className="schedule-runs">
      <h2>History of {props.name}</h2>
      <ErrorLine error={runs.error} />
      <table className="table">
        <thead>
          <tr>
            <th>Due</th>
            <th>Fired</th>
            <th>Result</th>
          </tr>
        </thead>
        <tbody>
          {items.map((run) => (
            <tr key={run.id}>
              <td>{formatDateTime(run.scheduledFor)}</td>
              <td>{formatDateTime(run.firedAt)}</td>
              <td>
                {run.jobId !== null ? (
                  <Link href={`/jobs/${run.jobId}`}>job {run.jobId.slice(0, 8)}</Link>
                ) : (
                  <span className="status-failed">{run.error ?? 'no job (interrupted)'}</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!runs.loading && items.length === 0 && <p className="empty">No runs yet.</p>}
    </div>
  );
}
