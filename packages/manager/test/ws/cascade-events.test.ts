import { WebSocket } from 'ws';
import type { LiveEvent } from '@farm/core';
import { startTestManager, type TestManager } from '../support/test-manager';
import { testBackends } from '../support/test-database';

// Issue 8: a user's action moves more tasks than it names (a canceled dependency cancels its
// dependents, requeueing it requeues them, a job cancel moves every task). Live subscribers must
// see each of those tasks change: one event per task when few, one bulk event when many.

type TaskUpdated = Extract<LiveEvent, { type: 'task-updated' }>;
type BulkUpdated = Extract<LiveEvent, { type: 'tasks-bulk-updated' }>;

async function connectLive(manager: TestManager) {
  const ws = new WebSocket(`${manager.url.replace(/^http/, 'ws')}/api/v1/ws`, {
    headers: { Authorization: `Bearer ${manager.adminToken}` },
  });
  const received: LiveEvent[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    received.push(JSON.parse((data as Buffer).toString()) as LiveEvent);
    waiters.splice(0).forEach((wake) => wake());
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  /** Waits until `done(received)` holds, or fails after `timeoutMs` showing what came. */
  const until = async (what: string, done: (events: LiveEvent[]) => boolean, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    while (!done(received)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(received)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  return {
    ws,
    received,
    until,
    async subscribeJob(jobId: string): Promise<void> {
      ws.send(JSON.stringify({ type: 'subscribe', topic: 'job', id: jobId }));
      await until('subscription', (events) => events.some((e) => e.type === 'subscribed'));
      received.splice(0);
    },
  };
}

const taskUpdates = (events: LiveEvent[]) =>
  events.filter((e): e is TaskUpdated => e.type === 'task-updated');

describe.each(testBackends())('cascaded task changes on the live socket (%s)', (backend) => {
  jest.setTimeout(60_000);
  let manager: TestManager;
  let live: Awaited<ReturnType<typeof connectLive>>;

  beforeAll(async () => {
    manager = await startTestManager(backend);
  });
  afterAll(async () => {
    await manager?.stop();
  });
  beforeEach(async () => {
    live = await connectLive(manager);
  });
  afterEach(() => live.ws.close());

  async function call(method: string, path: string, body?: unknown): Promise<any> {
    const response = await fetch(`${manager.url}/api/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${manager.adminToken}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = await response.json();
    if (!response.ok)
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** An echo task and `sleeps` sleep tasks that depend on it; resolves the ids by name. */
  async function submit(sleeps: number): Promise<{ jobId: string; ids: Map<string, string> }> {
    const job = await call('POST', '/jobs', {
      name: `cascade ${sleeps}`,
      type: 'echo-sleep-test',
      settings: { message: 'hi', sleep_repeats: sleeps },
    });
    const tasks = await call('GET', `/jobs/${job.id}/tasks?limit=500`);
    const items = tasks.items as { id: string; name: string }[];
    return { jobId: job.id as string, ids: new Map(items.map((task) => [task.name, task.id])) };
  }

  it('canceling a task shows its canceled dependents, one event each', async () => {
    const { jobId, ids } = await submit(3);
    await live.subscribeJob(jobId);
    await call('POST', `/tasks/${ids.get('echo')}/actions`, { action: 'cancel' });

    await live.until('four task events', (events) => taskUpdates(events).length >= 4);
    const byId = new Map(taskUpdates(live.received).map((e) => [e.task.id, e]));
    for (const name of ['sleep-1', 'sleep-2', 'sleep-3']) {
      expect(byId.get(ids.get(name)!)).toMatchObject({
        jobId,
        previousStatus: 'queued',
        task: { name, status: 'canceled' },
      });
      expect(byId.get(ids.get(name)!)!.task.activity).toMatch(/dependency echo was canceled/);
    }
    expect(byId.get(ids.get('echo')!)).toMatchObject({ task: { status: 'canceled' } });
    expect(live.received.filter((e) => e.type === 'tasks-bulk-updated')).toEqual([]);

    // Requeueing the dependency brings its dependents back, and says so per task.
    live.received.splice(0);
    await call('POST', `/tasks/${ids.get('echo')}/actions`, { action: 'requeue' });
    await live.until('four task events', (events) => taskUpdates(events).length >= 4);
    const requeued = new Map(taskUpdates(live.received).map((e) => [e.task.id, e]));
    for (const name of ['echo', 'sleep-1', 'sleep-2', 'sleep-3']) {
      expect(requeued.get(ids.get(name)!)).toMatchObject({
        previousStatus: 'canceled',
        task: { name, status: 'queued' },
      });
    }
  });

  it('canceling a job with many tasks sends one bulk event naming them, not one each', async () => {
    const { jobId, ids } = await submit(30);
    await live.subscribeJob(jobId);
    await call('POST', `/jobs/${jobId}/actions`, { action: 'cancel' });

    await live.until(
      'the job canceled',
      (events) =>
        events.some((e) => e.type === 'job-updated' && e.job.status === 'canceled') &&
        events.some((e) => e.type === 'tasks-bulk-updated'),
    );
    const bulk = live.received.filter((e): e is BulkUpdated => e.type === 'tasks-bulk-updated');
    expect(bulk).toHaveLength(1);
    expect(bulk[0]).toMatchObject({ jobId, refresh: true });
    expect(new Set(bulk[0]!.taskIds)).toEqual(new Set(ids.values()));
    expect(taskUpdates(live.received)).toEqual([]);
    // The bulk event comes before the job's own, so a client refetching sees the final rows.
    const order = live.received.map((e) => e.type);
    expect(order.indexOf('tasks-bulk-updated')).toBeLessThan(order.lastIndexOf('job-updated'));
  });

  it('canceling a small job shows every task it canceled', async () => {
    const { jobId, ids } = await submit(2);
    await live.subscribeJob(jobId);
    await call('POST', `/jobs/${jobId}/actions`, { action: 'cancel' });
    await live.until('three task events', (events) => taskUpdates(events).length >= 3);
    expect(new Set(taskUpdates(live.received).map((e) => e.task.id))).toEqual(
      new Set(ids.values()),
    );
    for (const event of taskUpdates(live.received)) {
      expect(event).toMatchObject({ previousStatus: 'queued', task: { status: 'canceled' } });
    }
  });
});
