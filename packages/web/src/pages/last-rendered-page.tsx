import { useState } from 'react';
import type { LastRenderedInfo } from '../api/api-types';
import { useLiveReconnect, useLiveTopic, useLoad, useServices } from '../app-context';
import { AuthImage } from '../components/auth-image';
import { ErrorLine } from '../components/error-line';
import { formatDateTime } from '../format/time';
import { Link } from '../routing/router';

/** How many jobs' images the page shows below the farm's latest. */
const MAX_JOBS = 12;

interface JobImage {
  info: LastRenderedInfo;
  name?: string;
}

/** Newest first, one entry per job, at most `MAX_JOBS`. */
function mergeImages(list: JobImage[], next: JobImage): JobImage[] {
  const previous = list.find((item) => item.info.jobId === next.info.jobId);
  const merged = { ...next, name: next.name ?? previous?.name };
  return [merged, ...list.filter((item) => item.info.jobId !== next.info.jobId)]
    .sort((a, b) => b.info.updated.localeCompare(a.info.updated))
    .slice(0, MAX_JOBS);
}

/**
 * The farm's latest rendered frame, full size, and the latest image of each recently updated job
 * below it; both replaced live as workers produce new frames.
 */
export function LastRenderedPage() {
  const { api } = useServices();
  const initial = useLoad(async (signal) => {
    const [latest, jobs] = await Promise.all([
      api.call('get', '/api/v1/last-rendered', { signal }),
      api.call('get', '/api/v1/jobs', {
        query: { limit: MAX_JOBS, sort: 'updated', order: 'desc' },
        signal,
      }),
    ]);
    const perJob = await Promise.all(
      jobs.items.map(async (job) => {
        const info = await api.call('get', '/api/v1/jobs/{jobId}/last-rendered', {
          path: { jobId: job.id },
          signal,
        });
        return info ? [{ info, name: job.name }] : [];
      }),
    );
    return { latest: latest ?? null, jobs: perJob.flat().reduce(mergeImages, []) };
  }, []);
  const [live, setLive] = useState<{ latest: LastRenderedInfo | null; jobs: JobImage[] } | null>(
    null,
  );
  useLiveReconnect(() => {
    setLive(null);
    initial.reload();
  });
  useLiveTopic('last-rendered', undefined, (event) => {
    if (event.type !== 'last-rendered') return;
    setLive((current) => {
      const base = current ?? { latest: null, jobs: initial.data?.jobs ?? [] };
      return { latest: event.info, jobs: mergeImages(base.jobs, { info: event.info }) };
    });
  });
  const info = live?.latest ?? initial.data?.latest ?? null;
  const jobs = live?.jobs ?? initial.data?.jobs ?? [];
  return (
    <section className="page last-rendered-page" aria-labelledby="lr-title">
      <div className="page-head">
        <h1 id="lr-title">Last rendered</h1>
        {info && (
          <span className="muted">
            <Link href={`/jobs/${info.jobId}`}>Open the job</Link> · {formatDateTime(info.updated)}
          </span>
        )}
      </div>
      <ErrorLine error={initial.error} />
      {info ? (
        <figure className="last-rendered">
          <AuthImage
            key={info.images.full}
            src={info.images.full}
            alt="The last image rendered on the farm"
          />
        </figure>
      ) : (
        !initial.loading && (
          <p className="empty">
            Nothing has been rendered yet. New images appear here as they are made.
          </p>
        )
      )}
      {jobs.length > 0 && (
        <ul className="last-rendered-jobs" aria-label="Latest image of each job">
          {jobs.map(({ info: job, name }) => (
            <li key={job.jobId}>
              <Link href={`/jobs/${job.jobId}`}>
                <AuthImage
                  key={job.images.small}
                  src={job.images.small}
                  alt={`Last image rendered by ${name ?? 'the job'}`}
                />
                <span className="small">{name ?? job.jobId.slice(0, 8)}</span>
              </Link>
              <span className="muted small">{formatDateTime(job.updated)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
