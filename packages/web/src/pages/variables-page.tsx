import { useState } from 'react';
import type { Schema } from '../api/api-types';
import { useLoad, useServices } from '../app-context';
import { ErrorLine } from '../components/error-line';

const PLATFORMS: Array<Schema<'Platform'>> = ['linux', 'windows', 'darwin'];

/** The farm's variables per platform, for workers or for users (read-only). */
export function VariablesPage() {
  const { api } = useServices();
  const [audience, setAudience] = useState<Schema<'VariableAudience'>>('workers');
  const all = useLoad(
    (signal) =>
      Promise.all(
        PLATFORMS.map((platform) =>
          api.call('get', '/api/v1/variables/{audience}/{platform}', {
            path: { audience, platform },
            signal,
          }),
        ),
      ),
    [audience],
  );
  const names = [...new Set((all.data ?? []).flatMap((v) => Object.keys(v.variables)))].sort();
  return (
    <section className="page variables-page" aria-labelledby="vars-title">
      <div className="page-head">
        <h1 id="vars-title">Variables</h1>
        <div role="radiogroup" aria-label="Audience" className="row-fields">
          {(['workers', 'users'] as const).map((a) => (
            <label key={a} className="inline-field">
              <input
                type="radio"
                name="audience"
                checked={audience === a}
                onChange={() => setAudience(a)}
              />
              as {a} see them
            </label>
          ))}
        </div>
      </div>
      <ErrorLine error={all.error} />
      <table className="table">
        <thead>
          <tr>
            <th>Name</th>
            {PLATFORMS.map((p) => (
              <th key={p}>{p}</th>
            ))}
            <th>Two-way</th>
          </tr>
        </thead>
        <tbody>
          {names.map((name) => (
            <tr key={name}>
              <td className="mono">{`{${name}}`}</td>
              {(all.data ?? []).map((v) => (
                <td key={v.platform} className="mono">
                  {v.variables[name]?.value ?? ''}
                </td>
              ))}
              <td>{(all.data ?? []).some((v) => v.variables[name]?.twoWay) ? 'yes' : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!all.loading && names.length === 0 && <p className="empty">No variables are configured.</p>}
    </section>
  );
}
