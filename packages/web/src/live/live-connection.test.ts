import type { LiveEvent } from '../api/api-types';
import { reconnectDelayMs } from './backoff';
import { createLiveConnection, type SocketLike, type Timers } from './live-connection';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  closed = false;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.closed = true;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({});
  }
  receive(event: LiveEvent) {
    this.onmessage?.({ data: JSON.stringify(event) });
  }
}

function fakeTimers() {
  const pending: Array<{ fn: () => void; ms: number; id: number }> = [];
  let next = 1;
  const timers: Timers = {
    setTimeout(fn, ms) {
      const id = next++;
      pending.push({ fn, ms, id });
      return id;
    },
    clearTimeout(handle) {
      const i = pending.findIndex((p) => p.id === handle);
      if (i >= 0) pending.splice(i, 1);
    },
  };
  return {
    timers,
    pending,
    fire() {
      const timer = pending.shift();
      if (!timer) throw new Error('no timer pending');
      timer.fn();
      return timer.ms;
    },
  };
}

function setup() {
  const sockets: FakeSocket[] = [];
  const clock = fakeTimers();
  const connection = createLiveConnection({
    url: () => 'ws://farm/api/v1/ws?token=t',
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    backoff: { random: () => 0 },
    timers: clock.timers,
  });
  const last = () => sockets[sockets.length - 1] as FakeSocket;
  return { connection, sockets, clock, last };
}

describe('reconnectDelayMs', () => {
  it('doubles from 500 ms up to 15 s', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 10].map((attempt) =>
      reconnectDelayMs(attempt, { random: () => 0 }),
    );
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  });
  it('shortens each delay by at most the jitter share', () => {
    expect(reconnectDelayMs(3, { random: () => 1, jitter: 0.2 })).toBe(3200);
  });
});

describe('createLiveConnection', () => {
  it('connects on the first subscription and subscribes once open', () => {
    const { connection, sockets, last } = setup();
    expect(sockets).toHaveLength(0);
    const events: LiveEvent[] = [];
    connection.subscribe('jobs', undefined, (e) => events.push(e));
    connection.subscribe('job', 'j1', () => undefined);
    expect(sockets).toHaveLength(1);
    last().open();
    expect(last().sent).toEqual([
      { type: 'subscribe', topic: 'jobs' },
      { type: 'subscribe', topic: 'job', id: 'j1' },
    ]);
    last().receive({ type: 'job-deleted', jobId: 'j9' });
    last().receive({ type: 'worker-deleted', workerId: 'w' });
    expect(events).toEqual([{ type: 'job-deleted', jobId: 'j9' }]);
  });

  it('shares a topic between listeners and unsubscribes when the last one leaves', () => {
    const { connection, last } = setup();
    const a = connection.subscribe('workers', undefined, () => undefined);
    last().open();
    const b = connection.subscribe('workers', undefined, () => undefined);
    expect(last().sent).toEqual([{ type: 'subscribe', topic: 'workers' }]);
    a();
    expect(last().sent).toHaveLength(1);
    b();
    expect(last().sent).toEqual([
      { type: 'subscribe', topic: 'workers' },
      { type: 'unsubscribe', topic: 'workers' },
    ]);
  });

  it('reconnects with growing delays, re-subscribes, and resets the delay after a success', () => {
    const { connection, sockets, clock, last } = setup();
    const states: Array<[string, boolean]> = [];
    connection.onState((state, reconnected) => states.push([state, reconnected]));
    connection.subscribe('task-log', 't1', () => undefined);
    last().open();
    last().drop();
    expect(clock.fire()).toBe(500);
    last().drop();
    expect(clock.fire()).toBe(1000);
    last().drop();
    expect(clock.fire()).toBe(2000);
    expect(sockets).toHaveLength(4);
    last().open();
    expect(last().sent).toEqual([{ type: 'subscribe', topic: 'task-log', id: 't1' }]);
    expect(states.filter(([s]) => s === 'open')).toEqual([
      ['open', false],
      ['open', true],
    ]);
    last().drop();
    expect(clock.fire()).toBe(500);
  });

  it('stops retrying once closed, and does not retry with nothing subscribed', () => {
    const { connection, clock, last } = setup();
    const off = connection.subscribe('jobs', undefined, () => undefined);
    last().open();
    off();
    last().drop();
    expect(clock.pending).toHaveLength(0);
    connection.subscribe('jobs', undefined, () => undefined);
    last().drop();
    expect(clock.pending).toHaveLength(1);
    connection.close();
    expect(clock.pending).toHaveLength(0);
    expect(connection.state).toBe('closed');
  });
});
