import { useState } from 'react';
import type { LastRenderedInfo } from '../api/api-types';
import { useLiveReconnect, useLiveTopic, useLoad, useServices } from '../app-context';
import { AuthImage } from '../components/auth-image';
import { ErrorLine } from '../components/error-line';
import { formatDateTime } from '../format/time';
import { Link } from '../routing/router';

/** The farm's latest rendered frame, full size, replaced live as workers produce new ones. */
export function LastRenderedPage() {
  const { api } = useServices();
  const initial = useLoad((signal) => api.call('get', '/api/v1/last-rendered', { signal }), []);
  const [live, setLive] = useState<LastRenderedInfo | null>(null);
  useLiveReconnect(initial.reload);
  useLiveTopic('last-rendered', undefined, (event) => {
    if (event.type === 'last-rendered') setLive(event.info);
  });
  const info = live ?? initial.data ?? null;
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
            key={`${info.images.full}@${info.updated}`}
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
    </section>
  );
}
