import { useState } from 'react';
import type { Job, JobSetting } from '../api/api-types';
import { useLoad, useServices } from '../app-context';
import { AuthImage } from '../components/auth-image';
import { CopyButton } from '../components/copy-button';
import { ErrorLine } from '../components/error-line';
import { formatDateTime } from '../format/time';
import { Link } from '../routing/router';

type Tab = 'details' | 'settings' | 'metadata' | 'blocklist';

const PATH_SUBTYPES = new Set(['file_path', 'dir_path', 'hashed_file_path', 'file_name']);

/** Whether a setting holds a path, by its declared subtype or, for undeclared ones, by its look. */
export function isPathLike(setting: JobSetting | undefined, value: unknown): boolean {
  if (typeof value !== 'string' || value === '') return false;
  if (setting?.subtype && PATH_SUBTYPES.has(setting.subtype)) return true;
  return /^([a-zA-Z]:[\\/]|\/|\\\\|\{\w+\}[\\/])/.test(value);
}

/** The job's details, settings (paths with a copy button), metadata, blocklist and last image. */
export function JobInfo(props: { job: Job; imageVersion: number }) {
  const { job } = props;
  const { api } = useServices();
  const [tab, setTab] = useState<Tab>('details');
  const jobType = useLoad(
    (signal) => api.call('get', '/api/v1/job-types/{name}', { path: { name: job.type }, signal }),
    [job.type],
  );
  const lastRendered = useLoad(
    (signal) =>
      api.call('get', '/api/v1/jobs/{jobId}/last-rendered', { path: { jobId: job.id }, signal }),
    [job.id, props.imageVersion],
  );
  const declared = new Map((jobType.data?.settings ?? []).map((s) => [s.key, s]));
  const tabs: Array<{ id: Tab; label: string }> = [
    { id: 'details', label: 'Details' },
    { id: 'settings', label: 'Settings' },
    { id: 'metadata', label: 'Metadata' },
    { id: 'blocklist', label: 'Blocklist' },
  ];
  return (
    <aside className="panel job-info" aria-label="Job information">
      {lastRendered.data && (
        <figure className="job-thumb">
          <AuthImage
            src={lastRendered.data.images.small}
            alt={`Last image rendered by ${job.name}`}
          />
          <figcaption className="muted small">
            Last rendered {formatDateTime(lastRendered.data.updated)}
          </figcaption>
        </figure>
      )}
      <div className="tabs" role="tablist" aria-label="Job information">
        {tabs.map(({ id, label }) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`job-tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`job-tabpanel-${id}`}
            className={`tab${tab === id ? ' tab-on' : ''}`}
            onClick={() => setTab(id)}
          >
            {label}
          </button>
        ))}
      </div>
      <div
        role="tabpanel"
        id={`job-tabpanel-${tab}`}
        aria-labelledby={`job-tab-${tab}`}
        className="tabpanel"
      >
        {tab === 'details' && (
          <dl className="facts">
            <dt>Id</dt>
            <dd className="mono small">
              {job.id} <CopyButton text={job.id} label="Copy the job id" />
            </dd>
            <dt>Type</dt>
            <dd>{jobType.data?.label ?? job.type}</dd>
            <dt>Priority</dt>
            <dd className="num">{job.priority}</dd>
            <dt>Project</dt>
            <dd>{job.project?.name}</dd>
            <dt>Submitter</dt>
            <dd>{job.submitter?.name ?? '—'}</dd>
            <dt>Activity</dt>
            <dd>{job.activity || '—'}</dd>
            <dt>Created</dt>
            <dd className="num">{formatDateTime(job.created)}</dd>
            <dt>Updated</dt>
            <dd className="num">{formatDateTime(job.updated)}</dd>
            <dt>Required tags</dt>
            <dd>{job.requiredTags.length ? job.requiredTags.join(', ') : 'none'}</dd>
            <dt>Max workers</dt>
            <dd className="num">{job.maxWorkers ?? 'no limit'}</dd>
            <dt>Not before</dt>
            <dd className="num">{job.notBefore ? formatDateTime(job.notBefore) : '—'}</dd>
            <dt>Fails at</dt>
            <dd className="num">{job.failureThresholdPercent}% failed tasks</dd>
            {job.dependsOnJobs && job.dependsOnJobs.length > 0 && (
              <>
                <dt>Waits for</dt>
                <dd>
                  {job.dependsOnJobs.map((id, i) => (
                    <span key={id}>
                      {i > 0 && ', '}
                      <Link href={`/jobs/${id}`}>job {id.slice(0, 8)}</Link>
                    </span>
                  ))}
                </dd>
              </>
            )}
          </dl>
        )}
        {tab === 'settings' && (
          <dl className="facts settings">
            {Object.entries(job.settings)
              .filter(
                ([key]) =>
                  declared.get(key)?.visible !== 'hidden' &&
                  declared.get(key)?.visible !== 'submission',
              )
              .map(([key, value]) => {
                const setting = declared.get(key);
                const text = typeof value === 'string' ? value : JSON.stringify(value);
                return (
                  <div key={key} className="fact-row">
                    <dt title={setting?.description}>{setting?.label ?? key}</dt>
                    <dd className={isPathLike(setting, value) ? 'mono path' : undefined}>
                      <span className="value">{text}</span>
                      {isPathLike(setting, value) && (
                        <CopyButton text={text} label={`Copy ${setting?.label ?? key}`} />
                      )}
                    </dd>
                  </div>
                );
              })}
          </dl>
        )}
        {tab === 'metadata' &&
          (Object.keys(job.metadata).length === 0 ? (
            <p className="muted">No metadata.</p>
          ) : (
            <dl className="facts">
              {Object.entries(job.metadata).map(([key, value]) => (
                <div key={key} className="fact-row">
                  <dt>{key}</dt>
                  <dd>{value}</dd>
                </div>
              ))}
            </dl>
          ))}
        {tab === 'blocklist' && <Blocklist jobId={job.id} />}
      </div>
    </aside>
  );
}

function Blocklist(props: { jobId: string }) {
  const { api } = useServices();
  const list = useLoad(
    (signal) =>
      api.call('get', '/api/v1/jobs/{jobId}/blocklist', { path: { jobId: props.jobId }, signal }),
    [props.jobId],
  );
  const [error, setError] = useState<unknown>(null);
  async function remove(workerId: string, taskType: string) {
    setError(null);
    try {
      await api.call('delete', '/api/v1/jobs/{jobId}/blocklist', {
        path: { jobId: props.jobId },
        body: { entries: [{ workerId, taskType }] },
      });
      list.reload();
    } catch (e) {
      setError(e);
    }
  }
  const items = list.data?.items ?? [];
  return (
    <div>
      <ErrorLine error={list.error ?? error} />
      {items.length === 0 ? (
        <p className="muted">No worker is blocklisted for this job.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Worker</th>
              <th>Task type</th>
              <th>Since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((entry) => (
              <tr key={`${entry.workerId}/${entry.taskType}`}>
                <td>{entry.workerName}</td>
                <td>{entry.taskType}</td>
                <td className="num">{formatDateTime(entry.createdAt)}</td>
                <td>
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={() => void remove(entry.workerId, entry.taskType)}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
