import { useState, type FormEvent } from 'react';
import type { Schema } from '../api/api-types';
import { useLoad, useServices } from '../app-context';
import { CopyButton } from '../components/copy-button';
import { ErrorLine } from '../components/error-line';
import { formatDateTime } from '../format/time';
import { useBrowserNotificationSetting } from '../notifications/browser-notifications';

type Subscription = Schema<'NotificationSubscription'>;
type Channel = Schema<'NotificationChannel'>;
type EventName = Schema<'NotificationEvent'>;

const CHANNELS: Array<{ value: Channel; label: string }> = [
  { value: 'webhook', label: 'Webhook (signed JSON)' },
  { value: 'slack', label: 'Slack' },
  { value: 'discord', label: 'Discord' },
  { value: 'matrix', label: 'Matrix' },
  { value: 'rocketchat', label: 'Rocket.Chat' },
  { value: 'telegram', label: 'Telegram' },
  { value: 'email', label: 'E-mail' },
];

const EVENTS: Array<{ value: EventName; label: string }> = [
  { value: 'job-completed', label: 'Job completed' },
  { value: 'job-failed', label: 'Job failed' },
  { value: 'job-canceled', label: 'Job canceled' },
  { value: 'task-failed', label: 'Task failed' },
  { value: 'worker-offline', label: 'Worker offline' },
  { value: 'worker-error', label: 'Worker in error' },
  { value: 'farm-idle', label: 'Farm idle' },
];

/** Which target fields each channel asks for. */
const FIELDS: Record<Channel, Array<'url' | 'email' | 'roomId' | 'chatId' | 'token'>> = {
  webhook: ['url'],
  slack: ['url'],
  discord: ['url'],
  rocketchat: ['url'],
  matrix: ['url', 'roomId', 'token'],
  telegram: ['chatId', 'token'],
  email: ['email'],
};

const FIELD_LABELS = {
  url: 'URL',
  email: 'E-mail address',
  roomId: 'Room id',
  chatId: 'Chat id',
  token: 'Token',
} as const;

function fieldLabel(channel: Channel, field: keyof typeof FIELD_LABELS): string {
  if (field === 'url' && channel === 'matrix') return 'Homeserver URL';
  if (field === 'url' && channel !== 'webhook') return 'Incoming webhook URL';
  if (field === 'token' && channel === 'matrix') return 'Access token';
  if (field === 'token' && channel === 'telegram') return 'Bot token';
  return FIELD_LABELS[field];
}

/** Notification settings: subscriptions on webhooks, chat and e-mail, their delivery log, and browser notifications. */
export function NotificationsPage() {
  const { api } = useServices();
  const list = useLoad(
    (signal) => api.call('get', '/api/v1/notifications/subscriptions', { signal }),
    [],
  );
  const [selected, setSelected] = useState<string | null>(null);
  const [newSecret, setNewSecret] = useState<{ id: string; secret: string } | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const act = async (work: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await work();
      list.reload();
    } catch (error) {
      setActionError(error);
    }
  };

  const items = list.data?.items ?? [];
  return (
    <section className="page notifications-page" aria-labelledby="notifications-title">
      <div className="page-head">
        <h1 id="notifications-title">Notifications</h1>
      </div>
      <BrowserNotifications />
      <h2>Subscriptions</h2>
      <ErrorLine error={list.error} />
      <ErrorLine error={actionError} />
      {newSecret && (
        <p className="secret-once" role="status">
          Signing secret of the new webhook (shown only now): <code>{newSecret.secret}</code>{' '}
          <CopyButton text={newSecret.secret} />
        </p>
      )}
      <table className="table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Channel</th>
            <th>Target</th>
            <th>Events</th>
            <th>Enabled</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {items.map((sub) => (
            <tr key={sub.id} className={sub.id === selected ? 'row-selected' : undefined}>
              <td>{sub.name || <span className="muted">(unnamed)</span>}</td>
              <td>{CHANNELS.find((c) => c.value === sub.channel)?.label ?? sub.channel}</td>
              <td className="mono wrap">{sub.target}</td>
              <td className="wrap">{sub.events.join(', ')}</td>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Enabled: ${sub.name || sub.target}`}
                  checked={sub.enabled}
                  onChange={(e) =>
                    void act(() =>
                      api.call('patch', '/api/v1/notifications/subscriptions/{subscriptionId}', {
                        path: { subscriptionId: sub.id },
                        body: { enabled: e.target.checked },
                      }),
                    )
                  }
                />
              </td>
              <td>
                <button
                  type="button"
                  className="btn btn-small"
                  onClick={() =>
                    void act(async () => {
                      await api.call(
                        'post',
                        '/api/v1/notifications/subscriptions/{subscriptionId}/test',
                        { path: { subscriptionId: sub.id } },
                      );
                      setSelected(sub.id);
                    })
                  }
                >
                  Send test
                </button>{' '}
                <button type="button" className="btn btn-small" onClick={() => setSelected(sub.id)}>
                  Delivery log
                </button>{' '}
                <button
                  type="button"
                  className="btn btn-small btn-danger"
                  onClick={() => {
                    if (!window.confirm(`Delete the subscription "${sub.name || sub.target}"?`)) {
                      return;
                    }
                    void act(async () => {
                      await api.call(
                        'delete',
                        '/api/v1/notifications/subscriptions/{subscriptionId}',
                        { path: { subscriptionId: sub.id } },
                      );
                      if (selected === sub.id) setSelected(null);
                    });
                  }}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!list.loading && items.length === 0 && (
        <p className="empty">No subscriptions yet: add one below.</p>
      )}
      {selected && (
        <DeliveryLog
          key={selected}
          subscription={items.find((s) => s.id === selected)}
          subscriptionId={selected}
        />
      )}
      <NewSubscription
        onCreated={(sub) => {
          if (sub.secret) setNewSecret({ id: sub.id, secret: sub.secret });
          list.reload();
        }}
      />
    </section>
  );
}

function BrowserNotifications() {
  const setting = useBrowserNotificationSetting();
  const [error, setError] = useState<unknown>(null);
  return (
    <div className="browser-notifications">
      <h2>In this browser</h2>
      {setting.permission === 'unsupported' ? (
        <p className="muted">This browser cannot show notifications.</p>
      ) : setting.permission === 'denied' ? (
        <p className="muted">
          Notifications are blocked for this site; allow them in the browser&apos;s site settings.
        </p>
      ) : setting.enabled ? (
        <p>
          You are told here when one of your jobs completes, fails or is canceled (while this page
          is open).{' '}
          <button type="button" className="btn btn-small" onClick={() => setting.disable()}>
            Turn off
          </button>
        </p>
      ) : (
        <p>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => void setting.enable().catch((e: unknown) => setError(e))}
          >
            Notify me in this browser when my jobs finish
          </button>
        </p>
      )}
      <ErrorLine error={error} />
    </div>
  );
}

function DeliveryLog(props: { subscriptionId: string; subscription?: Subscription }) {
  const { api } = useServices();
  const log = useLoad(
    (signal) =>
      api.call('get', '/api/v1/notifications/subscriptions/{subscriptionId}/deliveries', {
        path: { subscriptionId: props.subscriptionId },
        query: { limit: 50 },
        signal,
      }),
    [props.subscriptionId],
  );
  const items = log.data?.items ?? [];
  return (
    <div className="delivery-log">
      <h2>
        Delivery log
        {props.subscription ? `: ${props.subscription.name || props.subscription.target}` : ''}{' '}
        <button type="button" className="btn btn-small" onClick={() => log.reload()}>
          Refresh
        </button>
      </h2>
      <ErrorLine error={log.error} />
      <table className="table">
        <thead>
          <tr>
            <th>Created</th>
            <th>Event</th>
            <th>Message</th>
            <th>Status</th>
            <th>Attempts</th>
            <th>Last answer</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id}>
              <td>{formatDateTime(d.created)}</td>
              <td>{d.event}</td>
              <td className="wrap">{d.title}</td>
              <td>
                {d.status}
                {d.status === 'pending' && d.nextAttempt
                  ? ` (next ${formatDateTime(d.nextAttempt)})`
                  : ''}
              </td>
              <td>{d.attempts}</td>
              <td className="wrap">
                {d.lastStatusCode ?? ''} {d.lastError ?? ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!log.loading && items.length === 0 && <p className="empty">Nothing sent yet.</p>}
    </div>
  );
}

function NewSubscription(props: { onCreated(sub: Subscription): void }) {
  const { api } = useServices();
  const [channel, setChannel] = useState<Channel>('webhook');
  const [name, setName] = useState('');
  const [events, setEvents] = useState<EventName[]>(['job-completed', 'job-failed']);
  const [onlyMyJobs, setOnlyMyJobs] = useState(true);
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const target: Record<string, string> = {};
      for (const field of FIELDS[channel]) {
        const value = values[field]?.trim();
        if (value) target[field] = value;
      }
      const created = await api.call('post', '/api/v1/notifications/subscriptions', {
        body: { name, channel, events, onlyMyJobs, ...target },
      });
      setValues({});
      setName('');
      props.onCreated(created);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-labelledby="new-sub-title">
      <h2 id="new-sub-title">New subscription</h2>
      <div className="row-fields">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
        </label>
        <label>
          Channel
          <select value={channel} onChange={(e) => setChannel(e.target.value as Channel)}>
            {CHANNELS.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="row-fields">
        {FIELDS[channel].map((field) => (
          <label key={field}>
            {fieldLabel(channel, field)}
            <input
              type={field === 'token' ? 'password' : field === 'email' ? 'email' : 'text'}
              autoComplete="off"
              value={values[field] ?? ''}
              onChange={(e) => setValues({ ...values, [field]: e.target.value })}
            />
          </label>
        ))}
      </div>
      <fieldset className="row-fields">
        <legend>Events</legend>
        {EVENTS.map((event) => (
          <label key={event.value} className="inline-field">
            <input
              type="checkbox"
              checked={events.includes(event.value)}
              onChange={(e) =>
                setEvents(
                  e.target.checked
                    ? [...events, event.value]
                    : events.filter((v) => v !== event.value),
                )
              }
            />
            {event.label}
          </label>
        ))}
      </fieldset>
      <label className="inline-field">
        <input
          type="checkbox"
          checked={onlyMyJobs}
          onChange={(e) => setOnlyMyJobs(e.target.checked)}
        />
        Job and task events only for my own jobs
      </label>
      <ErrorLine error={error} />
      <div>
        <button type="submit" className="btn btn-primary" disabled={busy || events.length === 0}>
          Add subscription
        </button>
      </div>
    </form>
  );
}
