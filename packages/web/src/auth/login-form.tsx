import { useState, type FormEvent } from 'react';
import { ApiError, errorLine } from '../api/api-error';
import { createApi } from '../api/create-api';

/** Asks for an API token and checks it with the manager before keeping it. */
export function LoginForm(props: { onToken(token: string): void; reason?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError('Paste an API token.');
      return;
    }
    setBusy(true);
    setError(null);
    const api = createApi({ getToken: () => value });
    try {
      await api.call('get', '/api/v1/me');
      props.onToken(value);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        // A manager without the users module yet: any authenticated read proves the token.
        try {
          await api.call('get', '/api/v1/job-types');
          props.onToken(value);
          return;
        } catch (inner) {
          setError(errorLine(inner));
        }
      } else {
        setError(errorLine(e));
      }
    } finally {
      setBusy(false);
    }
  }
  return (
    <main className="login">
      <form
        className="form login-form"
        onSubmit={(e) => void submit(e)}
        aria-labelledby="login-title"
      >
        <h1 id="login-title">Farm</h1>
        {props.reason && <p className="error-line">{props.reason}</p>}
        <div className="field">
          <label htmlFor="token">API token</label>
          <input
            id="token"
            name="token"
            type="password"
            autoComplete="current-password"
            autoFocus
            value={token}
            onChange={(e) => setToken(e.target.value)}
            className="mono wide"
          />
          <p className="hint">
            The first admin token is printed when the manager first starts and is kept in{' '}
            <code>farm-data/admin-token</code>. It stays in this browser until you sign out.
          </p>
        </div>
        {error && (
          <p className="error-line" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
