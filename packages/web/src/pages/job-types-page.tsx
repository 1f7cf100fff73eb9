import { useLoad, useServices } from '../app-context';
import { ErrorLine } from '../components/error-line';
import { Link } from '../routing/router';

/** Every job type and its settings, as the manager compiles them. */
export function JobTypesPage() {
  const { api } = useServices();
  const types = useLoad((signal) => api.call('get', '/api/v1/job-types', { signal }), []);
  return (
    <section className="page job-types-page" aria-labelledby="jt-title">
      <div className="page-head">
        <h1 id="jt-title">Job types</h1>
        <Link href="/variables">Variables</Link>
      </div>
      <ErrorLine error={types.error} />
      {types.data?.jobTypes.map((t) => (
        <article key={t.name} className="job-type" aria-labelledby={`jt-${t.name}`}>
          <h2 id={`jt-${t.name}`}>
            {t.label} <span className="muted mono small">{t.name}</span>{' '}
            <Link className="btn btn-small" href={`/submit?type=${encodeURIComponent(t.name)}`}>
              Submit…
            </Link>
          </h2>
          {t.description && <p>{t.description}</p>}
          <table className="table">
            <thead>
              <tr>
                <th>Key</th>
                <th>Label</th>
                <th>Type</th>
                <th>Default</th>
                <th>Choices</th>
                <th>Required</th>
                <th>Shown</th>
                <th>Description</th>
              </tr>
            </thead>
            <tbody>
              {t.settings.map((s) => (
                <tr key={s.key}>
                  <td className="mono">{s.key}</td>
                  <td>{s.label ?? ''}</td>
                  <td>
                    {s.type}
                    {s.subtype ? <span className="muted"> ({s.subtype})</span> : null}
                  </td>
                  <td className="mono">
                    {s.default === undefined ? '' : JSON.stringify(s.default)}
                  </td>
                  <td>{s.choices?.join(', ') ?? ''}</td>
                  <td>{s.required ? 'yes' : ''}</td>
                  <td>{s.visible ?? 'visible'}</td>
                  <td className="wrap">{s.description ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </article>
      ))}
    </section>
  );
}
