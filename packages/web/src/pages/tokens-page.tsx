import { useState, type FormEvent } from 'react';
import type { Schema } from '../api/api-types';
import { useLoad, useServices } from '../app-context';
import { CopyButton } from '../components/copy-button';
import { ErrorLine } from '../components/error-line';
import { formatAgo, formatDateTime } from '../format/time';

type Scope = Schema<'Scope'>;
type ApiToken = Schema<'ApiToken'>;

// What each scope lets a script do; `admin` is offered to farm admins only (the manager refuses it
// to everyone else anyway).
const SCOPES: Array<{ scope: Scope; label: string; adminOnly?: boolean }> = [
  { scope: 'jobs:read', label: 'read jobs, tasks, logs' },
  { scope: 'jobs:write', label: 'submit and control jobs' },
  { scope: 'workers:read', label: 'read workers' },
  { scope: 'workers:manage', label: 'manage workers' },
  { scope: 'metrics:read', label: 'read metrics' },
  { scope: 'admin', label: 'farm administration', adminOnly: true },
];

const EXPIRY_CHOICES: Array<{ days: number | null; label: string }> = [
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 365, label: '1 year' },
  { days: null, label: 'never' },
];

function tokenState(token: ApiToken): string {
  if (token.revokedAt) return `revoked ${formatAgo(token.revokedAt)}`;
  if (token.expiresAt && Date.parse(token.expiresAt) <= Date.now()) return 'expired';
  return 'active';
}

/** The caller's personal API tokens: list, create (the secret is shown once), revoke. */
export function TokensPage() {
  const { api, me } = useServices();
  const list = useLoad((signal) => api.call('get', '/api/v1/me/tokens', { signal }), []);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['jobs:read']);
  const [days, setDays] = useState<number | null>(90);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function create(event: FormEvent) {
    event.preventDefault();
    setActionError(null);
    setBusy(true);
    try {
      const answer = await api.call('post', '/api/v1/me/tokens', {
        body: { name: name.trim(), scopes, ...(days !== null ? { expiresInDays: days } : {}) },
      });
      setCreated({ name: answer.token.name, secret: answer.secret });
      setName('');
      list.reload();
    } catch (error) {
      setActionError(error);
    } finally {
      setBusy(false);
    }
  }

  async function revoke(token: ApiToken) {
    if (!window.confirm(`Revoke the token "${token.name}"? Scripts using it stop working.`)) return;
    setActionError(null);
    try {
      await api.call('delete', '/api/v1/me/tokens/{tokenId}', { path: { tokenId: token.id } });
      list.reload();
    } catch (error) {
      setActionError(error);
    }
  }

  const toggle = (scope: Scope, on: boolean) =>
    setScopes((current) => (on ? [...current, scope] : current.filter((s) => s !== scope)));
  const items = list.data?.items ?? [];
  return (
    <section className="page tokens-page" aria-labelledby="tokens-title">
      <div className="page-head">
        <h1 id="tokens-title">My tokens</h1>
      </div>
      <p className="muted">
        Personal API tokens for the <code>farm</code> CLI and your scripts (
        <code>Authorization: Bearer …</code>). A token can do at most what you may do, limited to
        its scopes.
      </p>
      <ErrorLine error={list.error} />
      <ErrorLine error={actionError} />
      {created && (
        <div className="token-secret" role="status" aria-label="New token">
          <p>
            The token <strong>{created.name}</strong>. Copy it now: it is not shown again.
          </p>
          <code className="mono" data-token-secret>
            {created.secret}
          </code>{' '}
          <CopyButton text={created.secret} label="Copy the new token" />{' '}
          <button type="button" className="btn btn-small" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      <form className="token-form" onSubmit={(e) => void create(e)} aria-label="New token">
        <h2>New token</h2>
        <label className="inline-field">
          Name{' '}
          <input
            value={name}
            required
            maxLength={200}
            placeholder="e.g. laptop CLI"
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.filter((s) => !s.adminOnly || me?.isAdmin).map((s) => (
            <label key={s.scope} className="inline-field">
              <input
                type="checkbox"
                checked={scopes.includes(s.scope)}
                onChange={(e) => toggle(s.scope, e.target.checked)}
              />{' '}
              <code>{s.scope}</code> {s.label}
            </label>
          ))}
        </fieldset>
        <label className="inline-field">
          Expires after{' '}
          <select
            value={days === null ? 'never' : String(days)}
            onChange={(e) => setDays(e.target.value === 'never' ? null : Number(e.target.value))}
          >
            {EXPIRY_CHOICES.map((choice) => (
              <option key={choice.label} value={choice.days === null ? 'never' : choice.days}>
                {choice.label}
              </option>
            ))}
          </select>
        </label>{' '}
        <button
          type="submit"
          className="btn"
          disabled={busy || name.trim() === '' || scopes.length === 0}
        >
          Create token
        </button>
      </form>
      <table className="table" aria-label="Tokens">
        <thead>
          <tr>
            <th>Name</th>
            <th>Scopes</th>
            <th>Created</th>
            <th>Expires</th>
            <th>Last used</th>
            <th>State</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {items.map((token) => {
            const state = tokenState(token);
            return (
              <tr key={token.id}>
                <td>{token.name}</td>
                <td className="mono">{token.scopes.join(' ')}</td>
                <td>{formatDateTime(token.createdAt)}</td>
                <td>{token.expiresAt ? formatDateTime(token.expiresAt) : 'never'}</td>
                <td>{token.lastUsedAt ? formatAgo(token.lastUsedAt) : 'never'}</td>
                <td>{state}</td>
                <td>
                  {state === 'active' && (
                    <button
                      type="button"
                      className="btn btn-small btn-danger"
                      aria-label={`Revoke ${token.name}`}
                      onClick={() => void revoke(token)}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {!list.loading && items.length === 0 && <p className="empty">No tokens yet.</p>}
    </section>
  );
}
