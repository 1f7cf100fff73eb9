import { useEffect, useRef, useState } from 'react';
import type { Job, LiveEvent } from '../api/api-types';
import { useLiveTopic, useServices } from '../app-context';
import { navigate } from '../routing/router';

const STORAGE_KEY = 'farm.browserNotifications';
/** Tells the other users of the setting in this tab (storage events only reach other tabs). */
const CHANGED_EVENT = 'farm:browser-notifications';
/** Job statuses a person wants to hear about when their own job reaches them. */
const FINAL_STATUSES = new Set(['completed', 'failed', 'canceled']);

/** The job a live event says just finished (a status change into completed, failed, canceled). */
export function finishedJobOf(event: LiveEvent): { id: string; status: string } | null {
  if (event.type !== 'job-updated' || event.previousStatus === undefined) return null;
  if (!FINAL_STATUSES.has(event.job.status) || event.previousStatus === event.job.status) {
    return null;
  }
  return { id: event.job.id, status: event.job.status };
}

/** The notification shown for a finished job of the user's own. */
export function jobNotificationText(job: Pick<Job, 'name' | 'status' | 'activity'>): {
  title: string;
  body: string;
} {
  return {
    title: `Job ${job.status}: ${job.name}`,
    body:
      job.status === 'completed'
        ? 'All tasks completed.'
        : job.activity || `The job ${job.status}.`,
  };
}

/** Whether this browser can show notifications at all. */
export function browserNotificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

/** The user's choice in this browser (kept in localStorage) and the browser's permission. */
export function useBrowserNotificationSetting(): {
  enabled: boolean;
  permission: NotificationPermission | 'unsupported';
  enable(): Promise<void>;
  disable(): void;
} {
  const [enabled, setEnabled] = useState(() => localStorage.getItem(STORAGE_KEY) === 'on');
  const [permission, setPermission] = useState<NotificationPermission | 'unsupported'>(() =>
    browserNotificationsSupported() ? Notification.permission : 'unsupported',
  );
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === STORAGE_KEY) setEnabled(event.newValue === 'on');
    };
    const onChanged = () => {
      setEnabled(localStorage.getItem(STORAGE_KEY) === 'on');
      // The permission may have been granted through another user of this setting.
      if (browserNotificationsSupported()) setPermission(Notification.permission);
    };
    window.addEventListener('storage', onStorage);
    window.addEventListener(CHANGED_EVENT, onChanged);
    return () => {
      window.removeEventListener('storage', onStorage);
      window.removeEventListener(CHANGED_EVENT, onChanged);
    };
  }, []);
  return {
    enabled: enabled && permission === 'granted',
    permission,
    async enable() {
      if (!browserNotificationsSupported()) return;
      // Browsers only ask in answer to a click, which is where this is called from.
      const answer = await Notification.requestPermission();
      setPermission(answer);
      if (answer === 'granted') {
        localStorage.setItem(STORAGE_KEY, 'on');
        window.dispatchEvent(new Event(CHANGED_EVENT));
      }
    },
    disable() {
      localStorage.setItem(STORAGE_KEY, 'off');
      window.dispatchEvent(new Event(CHANGED_EVENT));
    },
  };
}

/**
 * Shows a browser notification when one of the signed-in user's own jobs completes, fails or is
 * canceled, from the live `jobs` topic. The live event has no submitter, so a finished job is
 * fetched once to check whose it is.
 */
export function useJobNotifications(enabled: boolean): void {
  const { api, me } = useServices();
  const shown = useRef(new Set<string>());
  useLiveTopic(
    'jobs',
    undefined,
    (event) => {
      const finished = finishedJobOf(event);
      if (!finished || !me) return;
      const key = `${finished.id}:${finished.status}`;
      if (shown.current.has(key)) return;
      shown.current.add(key);
      api
        .call('get', '/api/v1/jobs/{jobId}', { path: { jobId: finished.id } })
        .then((job) => {
          if (job.submitter?.id !== me.id) return;
          const { title, body } = jobNotificationText(job);
          const notification = new Notification(title, { body, tag: key });
          notification.onclick = () => {
            window.focus();
            navigate(`/jobs/${job.id}`);
          };
        })
        .catch(() => undefined);
    },
    enabled && me !== null,
  );
}
