import { useCallback, useEffect, useRef, useState } from 'react';
import type { TaskSummary } from '../api/api-types';
import type { Api } from '../api/create-api';
import { startTaskLoader, type TaskLoader } from './task-loader';
import type { TaskStore } from './task-table-model';

/** Rows asked for first, so the table fills a screen long before 100,000 tasks have arrived. */
export const FIRST_PAGE_SIZE = 200;
/** The shortest gap between two full refetches asked for by live events. */
export const TASK_REFRESH_MS = 1000;

export interface JobTasks {
  /** Every task once `complete`; before that the first page, or undefined. */
  store: TaskStore | undefined;
  /** False while only the first page is in: sorting, filtering and counts see only those rows. */
  complete: boolean;
  loading: boolean;
  error: unknown;
  /** Bumped on every change of the store, for memos that read its columns. */
  version: number;
  /** Applies a live `task-updated`; a task the full list does not hold asks for a refetch. */
  update(task: TaskSummary): void;
  /** Refetches every task, at most once per `TASK_REFRESH_MS`, never cutting one short. */
  refresh(): void;
}

/** A job's tasks for the task table, loaded by `startTaskLoader` (first page, then every task). */
export function useJobTasks(api: Api, jobId: string): JobTasks {
  const [store, setStore] = useState<TaskStore | undefined>(undefined);
  const [complete, setComplete] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const loader = useRef<TaskLoader | null>(null);

  useEffect(() => {
    setStore(undefined);
    setComplete(false);
    setLoading(true);
    setError(null);
    const started = startTaskLoader(
      {
        firstPage: async (signal) =>
          (
            await api.call('get', '/api/v1/jobs/{jobId}/tasks', {
              path: { jobId },
              query: { limit: FIRST_PAGE_SIZE },
              signal,
            })
          ).items,
        all: (signal) =>
          api.call('get', '/api/v1/jobs/{jobId}/tasks/compact', { path: { jobId }, signal }),
      },
      {
        show(next, full) {
          setStore(next);
          setComplete(full);
          setLoading(false);
          if (full) setError(null);
          setVersion((v) => v + 1);
        },
        changed: () => setVersion((v) => v + 1),
        failed(e) {
          setError(e);
          setLoading(false);
        },
      },
      TASK_REFRESH_MS,
    );
    loader.current = started;
    return () => started.stop();
  }, [api, jobId]);

  const update = useCallback((task: TaskSummary) => loader.current?.update(task), []);
  const refresh = useCallback(() => loader.current?.refresh(), []);
  return { store, complete, loading, error, version, update, refresh };
}
