import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
  type DependencyList,
} from 'react';
import { mayAccessJobWithRole, projectRoleRank } from './core-rules';
import type { Api } from './api/create-api';
import type { CurrentUser, LiveEvent, SubscriptionTopic } from './api/api-types';
import type { ConnectionState, LiveConnection } from './live/live-connection';

export interface AppServices {
  api: Api;
  live: LiveConnection;
  /** The signed-in user, or null while unknown (or on a manager without `/me`). */
  me: CurrentUser | null;
}

export interface Permissions {
  /** Submit and act on jobs: the `jobs:write` scope and an artist or manager role somewhere. */
  writeJobs: boolean;
  /** The `workers:manage` scope and a manager role somewhere. */
  manageWorkers: boolean;
  /** A farm admin (users, projects, audit log). */
  admin: boolean;
  /** Whether the user may act on this job: managers of its project, or the artist who submitted it. */
  controlJob(job: { project: { id: string }; submitter?: { id: string } | null }): boolean;
}

/**
 * What the signed-in credential may do, from its scopes. While the user is unknown everything is
 * allowed: the manager still refuses what the token may not do, and says so in one line.
 */
export function usePermissions(): Permissions {
  const { me } = useServices();
  if (!me) {
    return { writeJobs: true, manageWorkers: true, admin: false, controlJob: () => true };
  }
  const has = (scope: CurrentUser['scopes'][number]) =>
    me.isAdmin || me.scopes.includes('admin') || me.scopes.includes(scope);
  // Roles per project (issue 7): the ranks and the job rule are core's, as the manager enforces them.
  const roleIn = (projectId: string) => {
    const ranked = me.roles.filter((r) => r.project?.id === projectId);
    return ranked.sort((a, b) => projectRoleRank(b.role) - projectRoleRank(a.role))[0]?.role;
  };
  const best = Math.max(0, ...me.roles.map((r) => projectRoleRank(r.role)));
  const writeJobs = has('jobs:write') && (me.isAdmin || best >= 2);
  return {
    writeJobs,
    manageWorkers: has('workers:manage') && (me.isAdmin || best >= 3),
    admin: me.isAdmin,
    controlJob: (job) =>
      writeJobs &&
      mayAccessJobWithRole(
        {
          isAdmin: me.isAdmin,
          role: roleIn(job.project.id),
          isSubmitter: job.submitter?.id === me.id,
        },
        'control',
      ),
  };
}

/** The current time, refreshed every `intervalMs`, so "12 s ago" texts stay true. */
export function useNow(intervalMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export const AppContext = createContext<AppServices | null>(null);

/** The API and the live connection of the signed-in app. */
export function useServices(): AppServices {
  const services = useContext(AppContext);
  if (!services) throw new Error('useServices outside the signed-in app');
  return services;
}

/**
 * Subscribes to a live topic while the component is mounted (and `id`, when the topic needs one,
 * is set). `listener` may change on every render; the latest one is called.
 */
export function useLiveTopic(
  topic: SubscriptionTopic,
  id: string | undefined,
  listener: (event: LiveEvent) => void,
  enabled = true,
): void {
  const { live } = useServices();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => {
    if (!enabled) return undefined;
    return live.subscribe(topic, id, (event) => latest.current(event));
  }, [live, topic, id, enabled]);
}

/** Calls `onReconnect` whenever the live connection comes back after a drop (refetch then). */
export function useLiveReconnect(onReconnect: () => void): void {
  const { live } = useServices();
  const latest = useRef(onReconnect);
  latest.current = onReconnect;
  useEffect(
    () =>
      live.onState((state, reconnected) => {
        if (state === 'open' && reconnected) latest.current();
      }),
    [live],
  );
}

/** The live connection's state, for the status line in the header. */
export function useLiveState(): ConnectionState {
  const { live } = useServices();
  const [state, setState] = useState<ConnectionState>(live.state);
  useEffect(() => live.onState((next) => setState(next)), [live]);
  return state;
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (update: (current: T | undefined) => T | undefined) => void;
}

/** Loads data once per `deps` change, keeps the last good data while reloading. */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: DependencyList,
): Loaded<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    loadRef
      .current(controller.signal)
      .then((value) => {
        if (controller.signal.aborted) return;
        setDataState(value);
        setError(null);
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (controller.signal.aborted) return;
        setError(e);
        setLoading(false);
      });
    return () => controller.abort();
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const setData = useCallback(
    (update: (current: T | undefined) => T | undefined) => setDataState(update),
    [],
  );
  return { data, error, loading, reload, setData };
}

/** Runs `fn` at most once per `ms`, trailing: live bursts become one refetch. */
export function useThrottled(fn: () => void, ms: number): () => void {
  const latest = useRef(fn);
  latest.current = fn;
  const timer = useRef<number | null>(null);
  useEffect(
    () => () => {
      if (timer.current !== null) window.clearTimeout(timer.current);
    },
    [],
  );
  return useCallback(() => {
    if (timer.current !== null) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      latest.current();
    }, ms);
  }, [ms]);
}
