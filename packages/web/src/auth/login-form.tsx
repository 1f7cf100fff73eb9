import { useState, type FormEvent } from 'react';
import { ApiError, errorLine } from '../api/api-error';
import { createApi } from '../api/create-api';

/**
 * Signs in with a user name and password (a web session: httpOnly cookie plus a CSRF token), or,
 * for scripts' tokens and the first admin, with an API token checked against the manager.
 */
export function LoginForm(props: {
  onToken(token: string): void;
  onSession(csrfToken: string): void;
  reason?: string;
}) {
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submitPassword() {
    if (!name.trim() || !password) {
      setError('Enter your user name and password.');
      return;
    }
    const api = createApi({ getToken: () => null });
    const result = await api.call('post', '/api/v1/auth/login', {
      body: { name: name.trim(), password },
    });
    props.onSession(result.csrfToken);
  }

  async function submitToken() {
    const value = token.trim();
    if (!value) {
      setError('Paste an API token.');
      return;
    }
    const api = createApi({ getToken: () => value });
    await api.call('get', '/api/v1/me');
    props.onToken(value);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await (mode === 'password' ? submitPassword() : submitToken());
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 429
          ? 'Too many failed attempts; wait a little and try again.'
          : errorLine(e),
      );
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
        {mode === 'password' ? (
          <>
            <div className="field">
              <label htmlFor="user-name">User name</label>
              <input
                id="user-name"
                name="username"
                autoComplete="username"
                autoFocus
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="password">Password</label>
              <input
                id="password"
                name="password"
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </div>
          </>
        ) : (
          <div className="field">
            <label htmlFor="token">API token</label>
            <input
              id="token"
              name="token"
              type="password"
              autoComplete="off"
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
        )}
        {error && (
          <p className="error-line" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => {
            setError(null);
            setMode(mode === 'password' ? 'token' : 'password');
          }}
        >
          {mode === 'password' ? 'Use an API token instead' : 'Use a user name and password'}
        </button>
      </form>
    </main>
  );
}
