import WebSocket from 'ws';
import type { LiveEvent } from '@farm/core';
import type { BroadcastEvent } from '@farm/core';
import {
  JOB_ID,
  TASK_ID,
  TOKENS,
  bearer,
  eventually,
  startTestManager,
  type TestManager,
} from '../http/test-app';

const OTHER_JOB = '55555555-5555-4555-8555-555555555555';

function taskUpdated(jobId: string, taskId = TASK_ID): BroadcastEvent {
  return {
    type: 'task-updated',
    jobId,
    task: {
      id: taskId,
      jobId,
      index: 0,
      name: 'render',
      type: 'blender',
      status: 'active',
      priority: 50,
      worker: null,
      progress: 0.5,
      activity: 'rendering',
      updated: '2026-11-22T10:00:00.000Z',
    },
  };
}

function jobUpdated(jobId: string): BroadcastEvent {
  return {
    type: 'job-updated',
    job: {
      id: jobId,
      name: 'Shot',
      type: 'simple-blender-render',
      priority: 50,
      status: 'active',
      activity: '',
      project: { id: JOB_ID, name: 'default' },
      taskCounts: {} as never,
      progress: 0,
      updated: '2026-11-22T10:00:00.000Z',
    } as never,
  };
}

async function connectLive(
  manager: TestManager,
  url = `${manager.wsUrl}/api/v1/ws`,
  headers: Record<string, string> = bearer(TOKENS.reader),
) {
  const ws = new WebSocket(url, { headers });
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
  const next = async (predicate: (e: LiveEvent) => boolean): Promise<LiveEvent> => {
    for (;;) {
      const found = received.find(predicate);
      if (found) {
        received.splice(received.indexOf(found), 1);
        return found;
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return {
    ws,
    received,
    next,
    send(message: unknown): void {
      ws.send(JSON.stringify(message));
    },
    /** Subscribes and waits for the acknowledgement; it also proves earlier messages were handled. */
    async subscribe(topic: string, id?: string): Promise<LiveEvent> {
      ws.send(
        JSON.stringify(
          id === undefined ? { type: 'subscribe', topic } : { type: 'subscribe', topic, id },
        ),
      );
      return next((e) => e.type === 'subscribed' || e.type === 'error');
    },
  };
}

describe('the live websocket', () => {
  let manager: TestManager;
  beforeEach(async () => {
    manager = await startTestManager();
  });
  afterEach(() => manager.close());

  it('needs a user token, in the header or the token query parameter', async () => {
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${manager.wsUrl}/api/v1/ws`);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => undefined);
    });
    expect(refused).toBe(401);
    const asWorker = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${manager.wsUrl}/api/v1/ws?token=${TOKENS.worker}`);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => undefined);
    });
    expect(asWorker).toBe(403);
    const viaQuery = await connectLive(
      manager,
      `${manager.wsUrl}/api/v1/ws?token=${TOKENS.reader}`,
      {},
    );
    expect(await viaQuery.subscribe('jobs')).toEqual({ type: 'subscribed', topic: 'jobs' });
    viaQuery.ws.close();
  });

  it('delivers events only to subscribers of their topic, once each', async () => {
    const jobWatcher = await connectLive(manager);
    const listWatcher = await connectLive(manager);
    const bystander = await connectLive(manager);
    expect(await jobWatcher.subscribe('job', JOB_ID)).toEqual({
      type: 'subscribed',
      topic: 'job',
      id: JOB_ID,
    });
    await jobWatcher.subscribe('jobs');
    await listWatcher.subscribe('jobs');
    await bystander.subscribe('job', OTHER_JOB);

    manager.bus.publish(taskUpdated(JOB_ID));
    manager.bus.publish(jobUpdated(JOB_ID));
    manager.bus.publish({
      type: 'task-log',
      jobId: JOB_ID,
      taskId: TASK_ID,
      lines: 'frame 1 done\n',
    });

    expect(await jobWatcher.next((e) => e.type === 'task-updated')).toEqual(taskUpdated(JOB_ID));
    await jobWatcher.next((e) => e.type === 'job-updated');
    await listWatcher.next((e) => e.type === 'job-updated');
    // A barrier: once these acks arrive, every earlier event has been delivered.
    await jobWatcher.subscribe('workers').catch(() => undefined);
    await listWatcher.subscribe('last-rendered');
    await bystander.subscribe('last-rendered');
    expect(jobWatcher.received.filter((e) => e.type === 'job-updated')).toEqual([]);
    expect(
      listWatcher.received.filter((e) => e.type === 'task-updated' || e.type === 'task-log'),
    ).toEqual([]);
    expect(bystander.received).toEqual([]);
  });

  it('stops delivering after unsubscribe', async () => {
    const client = await connectLive(manager);
    await client.subscribe('task-log', TASK_ID);
    manager.bus.publish({ type: 'task-log', jobId: JOB_ID, taskId: TASK_ID, lines: 'one\n' });
    await client.next((e) => e.type === 'task-log');
    client.send({ type: 'unsubscribe', topic: 'task-log', id: TASK_ID });
    await client.subscribe('jobs');
    manager.bus.publish({ type: 'task-log', jobId: JOB_ID, taskId: TASK_ID, lines: 'two\n' });
    manager.bus.publish(jobUpdated(JOB_ID));
    await client.next((e) => e.type === 'job-updated');
    expect(client.received.filter((e) => e.type === 'task-log')).toEqual([]);
  });

  it('refuses invalid subscriptions and topics the token may not see', async () => {
    const client = await connectLive(manager);
    expect(await client.subscribe('job')).toMatchObject({
      type: 'error',
      code: 'validation_failed',
    });
    expect(await client.subscribe('gossip')).toMatchObject({
      type: 'error',
      code: 'validation_failed',
    });
    expect(await client.subscribe('job', 'not-a-uuid')).toMatchObject({
      type: 'error',
      code: 'validation_failed',
    });
    expect(await client.subscribe('workers')).toMatchObject({ type: 'error', code: 'forbidden' });
    client.ws.send('nonsense');
    expect(await client.next(() => true)).toMatchObject({ type: 'error', code: 'bad_request' });
    manager.bus.publish({ type: 'worker-deleted', workerId: TASK_ID });
    const admin = await connectLive(manager, undefined, bearer(TOKENS.admin));
    expect(await admin.subscribe('workers')).toEqual({ type: 'subscribed', topic: 'workers' });
    manager.bus.publish({ type: 'worker-deleted', workerId: TASK_ID });
    expect(await admin.next((e) => e.type === 'worker-deleted')).toEqual({
      type: 'worker-deleted',
      workerId: TASK_ID,
    });
  });

  it('filters events through canSee', async () => {
    const filtered = await startTestManager({
      liveSocket: {
        canSee: (principal, event) =>
          (principal.kind === 'user' && principal.isAdmin) || event.type !== 'job-updated',
      },
    });
    try {
      const reader = await connectLive(filtered);
      const admin = await connectLive(filtered, undefined, bearer(TOKENS.admin));
      await reader.subscribe('jobs');
      await admin.subscribe('jobs');
      filtered.bus.publish(jobUpdated(JOB_ID));
      filtered.bus.publish({ type: 'job-deleted', jobId: JOB_ID });
      await admin.next((e) => e.type === 'job-updated');
      await reader.next((e) => e.type === 'job-deleted');
      expect(reader.received.filter((e) => e.type === 'job-updated')).toEqual([]);
    } finally {
      await filtered.close();
    }
  });
});

describe('a slow live client', () => {
  it('is dropped with close code 1013 instead of growing the manager memory', async () => {
    const manager = await startTestManager({ liveSocket: { maxBufferedBytes: 256 * 1024 } });
    try {
      const slow = await connectLive(manager);
      const fast = await connectLive(manager);
      await slow.subscribe('task-log', TASK_ID);
      await fast.subscribe('task-log', TASK_ID);
      const closed = new Promise<number>((resolve) =>
        slow.ws.once('close', (code) => resolve(code)),
      );
      // The slow browser stops reading; the fast one keeps up.
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const chunk = `${'x'.repeat(64 * 1024)}\n`;
      let published = 0;
      while (manager.liveSocket.clientCount > 1 && published < 2000) {
        manager.bus.publish({ type: 'task-log', jobId: JOB_ID, taskId: TASK_ID, lines: chunk });
        published++;
        // Let the sockets flush what they can, as a real event stream would.
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(manager.liveSocket.clientCount).toBe(1);
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await closed).toBe(1013);
      // The fast client is unaffected and gets everything.
      await eventually(
        () => fast.received.filter((e) => e.type === 'task-log').length === published,
        10_000,
      );
      expect(fast.ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      await manager.close();
    }
  });
});
