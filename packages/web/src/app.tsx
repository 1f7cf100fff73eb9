import { useEffect, useMemo, useRef, useState } from 'react';
import { AppContext, useLiveState, useServices, type AppServices } from './app-context';
import { createApi } from './api/create-api';
import { LoginForm } from './auth/login-form';
import { loadSessionCsrf, saveSessionCsrf } from './auth/session-store';
import { loadToken, saveToken } from './auth/token-store';
import { createLiveConnection, type SocketLike } from './live/live-connection';
import { JobPage } from './pages/job-page';
import { AuditPage } from './pages/audit-page';
import { JobTypesPage } from './pages/job-types-page';
import { JobsPage } from './pages/jobs-page';
import { LastRenderedPage } from './pages/last-rendered-page';
import { NotificationsPage } from './pages/notifications-page';
import { SchedulesPage } from './pages/schedules-page';
import {
  useBrowserNotificationSetting,
  useJobNotifications,
} from './notifications/browser-notifications';
import { SubmitPage } from './pages/submit-page';
import { TaskLogPage } from './pages/task-log-page';
import { TokensPage } from './pages/tokens-page';
import { VariablesPage } from './pages/variables-page';
import { WorkersPage } from './pages/workers-page';
import { Link, matchPath, useLocation } from './routing/router';
import { applyTheme, loadTheme, nextTheme, type ThemeChoice } from './theme/theme';

// Access tokens live 5 minutes; the live socket needs a fresh one only when it (re)connects.
const ACCESS_TOKEN_REFRESH_MS = 4 * 60 * 1000;

/**
 * The app: a sign-in form until signed in (password: a web session cookie; or an API token), then
 * the header and the page of the current path.
 */
export function App() {
  const [token, setToken] = useState<string | null>(() => loadToken());
  const [csrf, setCsrf] = useState<string | null>(() => (loadToken() ? null : loadSessionCsrf()));
  const [reason, setReason] = useState<string | undefined>(undefined);
  const tokenRef = useRef(token);
  tokenRef.current = token;
  const csrfRef = useRef(csrf);
  csrfRef.current = csrf;
  // The browser cannot put a cookie-less credential on a websocket: a session gets short-lived
  // access tokens for the live socket's `?token=`.
  const accessTokenRef = useRef<string | null>(null);
  const [accessReady, setAccessReady] = useState(false);
  useEffect(() => {
    setAccessReady(false);
    if (!csrf) return;
    const api = createApi({ getToken: () => null, getCsrfToken: () => csrfRef.current });
    const refresh = () =>
      api
        .call('post', '/api/v1/auth/access-token')
        .then((issued) => {
          accessTokenRef.current = issued.token;
          setAccessReady(true);
        })
        .catch(() => {
          saveSessionCsrf(null);
          setCsrf(null);
        });
    void refresh();
    const timer = window.setInterval(() => void refresh(), ACCESS_TOKEN_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [csrf]);

  const [me, setMe] = useState<AppServices['me']>(null);
  const base = useMemo(() => {
    if (!token && !(csrf && accessReady)) return null;
    const api = createApi({
      getToken: () => tokenRef.current,
      getCsrfToken: () => csrfRef.current,
      onUnauthenticated: () => {
        saveToken(null);
        saveSessionCsrf(null);
        setReason(
          tokenRef.current
            ? 'The manager no longer accepts this token; sign in again.'
            : 'Your session has ended; sign in again.',
        );
        setToken(null);
        setCsrf(null);
      },
    });
    const live = createLiveConnection({
      url: () => {
        const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
        const credential = tokenRef.current ?? accessTokenRef.current ?? '';
        return `${scheme}://${window.location.host}/api/v1/ws?token=${encodeURIComponent(credential)}`;
      },
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    });
    return { api, live };
  }, [token, csrf, accessReady]);
  useEffect(() => () => base?.live.close(), [base]);
  useEffect(() => {
    setMe(null);
    if (!base) return;
    // An older manager may not have /me yet; the app then simply offers every action.
    base.api
      .call('get', '/api/v1/me')
      .then(setMe)
      .catch(() => undefined);
  }, [base]);
  const services = useMemo<AppServices | null>(() => (base ? { ...base, me } : null), [base, me]);

  if (!services) {
    return (
      <LoginForm
        reason={reason}
        onToken={(value) => {
          saveToken(value);
          setReason(undefined);
          setToken(value);
        }}
        onSession={(value) => {
          saveSessionCsrf(value);
          setReason(undefined);
          setCsrf(value);
        }}
      />
    );
  }
  return (
    <AppContext.Provider value={services}>
      <Shell
        onSignOut={() => {
          if (!tokenRef.current && csrfRef.current) {
            void services.api.call('post', '/api/v1/auth/logout').catch(() => undefined);
          }
          saveToken(null);
          saveSessionCsrf(null);
          setToken(null);
          setCsrf(null);
        }}
      />
    </AppContext.Provider>
  );
}

const NAV: Array<{
  href: string;
  label: string;
  match: (path: string) => boolean;
  /** Shown to farm admins only (the manager refuses everyone else anyway). */
  adminOnly?: boolean;
}> = [
  {
    href: '/jobs',
    label: 'Jobs',
    match: (p) => p === '/' || p.startsWith('/jobs') || p.startsWith('/tasks'),
  },
  { href: '/workers', label: 'Workers', match: (p) => p.startsWith('/workers') },
  { href: '/last-rendered', label: 'Last rendered', match: (p) => p.startsWith('/last-rendered') },
  { href: '/submit', label: 'Submit', match: (p) => p.startsWith('/submit') },
  {
    href: '/job-types',
    label: 'Job types',
    match: (p) => p.startsWith('/job-types') || p.startsWith('/variables'),
  },
  { href: '/notifications', label: 'Notifications', match: (p) => p.startsWith('/notifications') },
  { href: '/schedules', label: 'Schedules', match: (p) => p.startsWith('/schedules') },
  { href: '/audit', label: 'Audit', match: (p) => p.startsWith('/audit'), adminOnly: true },
];

function Shell(props: { onSignOut(): void }) {
  const { path } = useLocation();
  const [theme, setTheme] = useState<ThemeChoice>(() => loadTheme());
  const live = useLiveState();
  const { me } = useServices();
  useEffect(() => applyTheme(theme), [theme]);
  useJobNotifications(useBrowserNotificationSetting().enabled);

  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      const target = event.target as HTMLElement | null;
      const typing =
        target &&
        (target.tagName === 'INPUT' ||
          target.tagName === 'TEXTAREA' ||
          target.tagName === 'SELECT' ||
          target.isContentEditable);
      if (event.key === '/' && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
        const filter = document.querySelector<HTMLInputElement>('[data-filter]');
        if (filter) {
          event.preventDefault();
          filter.focus();
          filter.select();
        }
      } else if (event.key === 'Escape' && target?.hasAttribute('data-filter')) {
        target.blur();
      }
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const liveLabel =
    live === 'open' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Offline, retrying';
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="header">
        <Link href="/jobs" className="brand">
          Farm
        </Link>
        <nav aria-label="Main">
          {NAV.filter((item) => !item.adminOnly || me?.isAdmin).map((item) => (
            <Link
              key={item.href}
              href={item.href}
              className={`nav-link${item.match(path) ? ' nav-on' : ''}`}
              aria-current={item.match(path) ? 'page' : undefined}
            >
              {item.label}
            </Link>
          ))}
          <a className="nav-link" href="/api/docs" target="_blank" rel="noreferrer">
            API docs
          </a>
        </nav>
        <span className="spacer" />
        <span
          className={`live-state live-${live}`}
          role="status"
          title="Live updates from the manager"
        >
          <span aria-hidden="true">{live === 'open' ? '●' : '○'}</span> {liveLabel}
        </span>
        {me && (
          <span className="muted" title={me.scopes.join(', ')}>
            {me.name}
          </span>
        )}
        {me && (
          <Link
            href="/tokens"
            className={`nav-link${path === '/tokens' ? ' nav-on' : ''}`}
            aria-current={path === '/tokens' ? 'page' : undefined}
          >
            My tokens
          </Link>
        )}
        <button
          type="button"
          className="btn btn-small"
          onClick={() => setTheme(nextTheme(theme))}
          aria-label={`Theme: ${theme}. Change theme`}
        >
          Theme: {theme}
        </button>
        <button type="button" className="btn btn-small" onClick={() => props.onSignOut()}>
          Sign out
        </button>
      </header>
      <main id="main" className="main">
        <Routes path={path} />
      </main>
    </div>
  );
}

function Routes(props: { path: string }) {
  const { path } = props;
  let m: Record<string, string> | null;
  if (path === '/' || path === '/jobs') return <JobsPage />;
  if ((m = matchPath('/jobs/:jobId/tasks/:taskId', path)))
    return <JobPage key={m.jobId} jobId={m.jobId as string} taskId={m.taskId ?? null} />;
  if ((m = matchPath('/jobs/:jobId', path)))
    return <JobPage key={m.jobId} jobId={m.jobId as string} taskId={null} />;
  if ((m = matchPath('/tasks/:taskId/log', path)))
    return <TaskLogPage taskId={m.taskId as string} />;
  if (path === '/workers') return <WorkersPage workerId={null} />;
  if ((m = matchPath('/workers/:workerId', path)))
    return <WorkersPage workerId={m.workerId ?? null} />;
  if (path === '/last-rendered') return <LastRenderedPage />;
  if (path === '/submit') return <SubmitPage />;
  if (path === '/job-types') return <JobTypesPage />;
  if (path === '/variables') return <VariablesPage />;
  if (path === '/notifications') return <NotificationsPage />;
  if (path === '/schedules') return <SchedulesPage />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/tokens') return <TokensPage />;
  return (
    <section className="page">
      <h1>Not found</h1>
      <p>
        There is no page at <code>{path}</code>. <Link href="/jobs">Go to the jobs</Link>.
      </p>
    </section>
  );
}
