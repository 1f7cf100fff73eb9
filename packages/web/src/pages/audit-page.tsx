import { useState } from 'react';
import type { Schema } from '../api/api-types';
import { useLoad, useServices } from '../app-context';
import { ErrorLine } from '../components/error-line';

type AuditEntry = Schema<'AuditEntry'>;

function describeTarget(entry: AuditEntry): string {
  const parts = Object.entries(entry.target).map(([key, value]) => `${key} ${value}`);
  const details = Object.entries(entry.details)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`)
    .join(' ');
  return [...parts, details].filter(Boolean).join(' · ');
}

/** Who did what (farm admins): submissions, actions, user and token changes, logins. */
export function AuditPage() {
  const { api } = useServices();
  const [action, setAction] = useState('');
  const [older, setOlder] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const first = useLoad(
    (signal) =>
      api.call('get', '/api/v1/audit-log', {
        query: { limit: 100, ...(action ? { action } : {}) },
        signal,
      }),
    [action],
  );
  const nextCursor = older.length > 0 ? cursor : (first.data?.nextCursor ?? null);
  async function loadMore() {
    if (!nextCursor) return;
    const page = await api.call('get', '/api/v1/audit-log', {
      query: { limit: 100, cursor: nextCursor, ...(action ? { action } : {}) },
    });
    setOlder((list) => [...list, ...page.items]);
    setCursor(page.nextCursor);
  }
  const entries = [...(first.data?.items ?? []), ...older];
  return (
    <section className="page audit-page" aria-labelledby="audit-title">
      <div className="page-head">
        <h1 id="audit-title">Audit log</h1>
        <label className="inline-field">
          Action{' '}
          <input
            value={action}
            placeholder="e.g. applyJobAction, login"
            onChange={(e) => {
              setOlder([]);
              setCursor(null);
              setAction(e.target.value.trim());
            }}
          />
        </label>
      </div>
      <ErrorLine error={first.error} />
      <table className="table">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>Action</th>
            <th>On</th>
            <th>Status</th>
            <th>From</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id}>
              <td className="mono">{entry.at}</td>
              <td>{entry.actor?.name ?? '-'}</td>
              <td className="mono">{entry.action}</td>
              <td className="mono">{describeTarget(entry)}</td>
              <td>{entry.status}</td>
              <td className="mono">{entry.address}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {nextCursor && (
        <button type="button" className="btn" onClick={() => void loadMore()}>
          Older entries
        </button>
      )}
    </section>
  );
}
