import {
  createEventBus,
  MAX_REMOTE_PAYLOAD_BYTES,
  type EventBus,
} from '../../src/events/event-bus';
import type { BroadcastEvent } from '@farm/core';
import { createMemoryLogger } from '../http/test-app';

const JOB_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const JOB_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

function taskId(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

function taskUpdated(jobId: string, n: number, progress = 0): BroadcastEvent {
  return {
    type: 'task-updated',
    jobId,
    task: {
      id: taskId(n),
      jobId,
      index: n,
      name: `task ${n}`,
      type: 'misc',
      status: 'active',
      priority: 50,
      worker: null,
      progress,
      activity: '',
      updated: '2026-11-22T10:00:00.000Z',
    },
  };
}

function collect(bus: EventBus): BroadcastEvent[] {
  const seen: BroadcastEvent[] = [];
  bus.subscribe((event) => seen.push(event));
  return seen;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createEventBus', () => {
  it('delivers events to every listener until it unsubscribes', () => {
    const bus = createEventBus();
    const a: BroadcastEvent[] = [];
    const stop = bus.subscribe((event) => a.push(event));
    const b = collect(bus);
    bus.publish({ type: 'worker-deleted', workerId: JOB_A });
    stop();
    bus.publish({ type: 'worker-deleted', workerId: JOB_B });
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(2);
  });

  it('keeps delivering when a listener throws', () => {
    const { logger, text } = createMemoryLogger();
    const bus = createEventBus({ logger });
    bus.subscribe(() => {
      throw new Error('listener bug');
    });
    const seen = collect(bus);
    bus.publish({ type: 'worker-deleted', workerId: JOB_A });
    expect(seen).toHaveLength(1);
    expect(text()).toContain('listener bug');
  });

  describe('coalescing task updates', () => {
    it('sends the first update at once, then a few gathered ones as themselves, latest state per task', async () => {
      const bus = createEventBus({ coalesceWindowMs: 30 });
      const seen = collect(bus);
      bus.publish(taskUpdated(JOB_A, 1, 0.1));
      expect(seen).toEqual([taskUpdated(JOB_A, 1, 0.1)]);
      bus.publish(taskUpdated(JOB_A, 1, 0.2));
      bus.publish(taskUpdated(JOB_A, 2, 0.5));
      bus.publish(taskUpdated(JOB_A, 1, 0.3));
      bus.publish(taskUpdated(JOB_B, 9, 0.9));
      expect(seen).toEqual([taskUpdated(JOB_A, 1, 0.1), taskUpdated(JOB_B, 9, 0.9)]);
      await sleep(60);
      expect(seen.slice(2)).toEqual([taskUpdated(JOB_A, 2, 0.5), taskUpdated(JOB_A, 1, 0.3)]);
      bus.close();
    });

    it('merges many updates of one job into one tasks-bulk-updated', async () => {
      const bus = createEventBus({ coalesceWindowMs: 30, bulkThreshold: 10 });
      const seen = collect(bus);
      for (let n = 0; n < 500; n++) bus.publish(taskUpdated(JOB_A, n));
      expect(seen).toHaveLength(1);
      await sleep(60);
      expect(seen).toHaveLength(2);
      expect(seen[1]).toEqual({
        type: 'tasks-bulk-updated',
        jobId: JOB_A,
        refresh: true,
        taskIds: Array.from({ length: 499 }, (_, i) => taskId(i + 1)),
      });
      bus.close();
    });

    it('omits the ids when there are more than the schema allows', () => {
      const bus = createEventBus({ coalesceWindowMs: 1000 });
      const seen = collect(bus);
      for (let n = 0; n < 1500; n++) bus.publish(taskUpdated(JOB_A, n));
      bus.flush();
      expect(seen[1]).toEqual({ type: 'tasks-bulk-updated', jobId: JOB_A, refresh: true });
    });

    it('flushes a job’s gathered updates before any other event about that job, keeping order', () => {
      const bus = createEventBus({ coalesceWindowMs: 1000 });
      const seen = collect(bus);
      bus.publish(taskUpdated(JOB_A, 1));
      bus.publish(taskUpdated(JOB_A, 2));
      bus.publish(taskUpdated(JOB_B, 3));
      bus.publish(taskUpdated(JOB_B, 4));
      bus.publish({ type: 'job-deleted', jobId: JOB_A });
      expect(
        seen.map((e) => (e.type === 'task-updated' ? `task ${e.task.index}` : e.type)),
      ).toEqual(['task 1', 'task 3', 'task 2', 'job-deleted']);
      bus.close();
      expect(seen.at(-1)).toEqual(taskUpdated(JOB_B, 4));
    });
  });

  describe('the replica bridge', () => {
    function linkedPair(options: { store?: Map<string, string> } = {}) {
      const wire: string[] = [];
      const store = options.store;
      const extra = store
        ? {
            storeOversized: (payload: string) => {
              const ref = `ref-${store.size}`;
              store.set(ref, payload);
              return Promise.resolve(ref);
            },
            loadOversized: (ref: string) => Promise.resolve(store.get(ref) ?? null),
          }
        : {};
      const a = createEventBus({
        coalesceWindowMs: 0,
        publishRemote: (p) => void wire.push(p),
        ...extra,
      });
      const b = createEventBus({
        coalesceWindowMs: 0,
        publishRemote: (p) => void wire.push(p),
        ...extra,
      });
      return { a, b, wire };
    }

    it('sends events to other replicas, which skip their own', async () => {
      const { a, b, wire } = linkedPair();
      const seenA = collect(a);
      const seenB = collect(b);
      const event: BroadcastEvent = { type: 'worker-deleted', workerId: JOB_A };
      a.publish(event);
      await new Promise((resolve) => setImmediate(resolve));
      expect(wire).toHaveLength(1);
      expect(JSON.parse(wire[0]!)).toEqual({ origin: a.origin, events: [event] });
      // NOTIFY reaches every listener, the sender included.
      await a.receiveRemote(wire[0]!);
      await b.receiveRemote(wire[0]!);
      expect(seenA).toEqual([event]);
      expect(seenB).toEqual([event]);
      // Received events are not sent on again.
      expect(wire).toHaveLength(1);
    });

    it('sends large events by reference', async () => {
      const store = new Map<string, string>();
      const { a, b, wire } = linkedPair({ store });
      const seenB = collect(b);
      const big: BroadcastEvent = {
        type: 'task-log',
        jobId: JOB_A,
        taskId: JOB_B,
        lines: 'y'.repeat(20_000),
      };
      a.publish(big);
      await new Promise((resolve) => setImmediate(resolve));
      expect(wire).toHaveLength(1);
      expect(Buffer.byteLength(wire[0]!)).toBeLessThan(MAX_REMOTE_PAYLOAD_BYTES);
      expect(JSON.parse(wire[0]!)).toEqual({ origin: a.origin, type: 'ref', ref: 'ref-0' });
      await b.receiveRemote(wire[0]!);
      expect(seenB).toEqual([big]);
    });

    it('sends the events of one tick as few notifications, in order', async () => {
      const { a, b, wire } = linkedPair();
      const seenB = collect(b);
      const events: BroadcastEvent[] = Array.from({ length: 300 }, (_, i) => ({
        type: 'task-log',
        jobId: JOB_A,
        taskId: JOB_B,
        lines: `line ${i}\n`,
      }));
      for (const event of events) a.publish(event);
      expect(wire).toHaveLength(0);
      await new Promise((resolve) => setImmediate(resolve));
      // 300 events of about 120 bytes: a handful of payloads, each under the NOTIFY limit.
      expect(wire.length).toBeGreaterThan(1);
      expect(wire.length).toBeLessThan(10);
      for (const payload of wire) {
        expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_REMOTE_PAYLOAD_BYTES);
        await b.receiveRemote(payload);
      }
      expect(seenB).toEqual(events);
      // A replica of the previous version sends one event per payload; it is still understood.
      const single: BroadcastEvent = { type: 'worker-deleted', workerId: JOB_A };
      await b.receiveRemote(JSON.stringify({ origin: 'older', event: single }));
      expect(seenB.at(-1)).toEqual(single);
    });

    it('gathers worker-stats for a window and sends them together, apart from other events', async () => {
      const wire: string[] = [];
      const a = createEventBus({
        coalesceWindowMs: 0,
        statsRemoteWindowMs: 30,
        publishRemote: (p) => void wire.push(p),
      });
      const stats = (n: number): BroadcastEvent => ({
        type: 'worker-stats',
        workerId: taskId(n),
        hostStats: {
          cpuPercent: n,
          memoryUsedBytes: 1,
          memoryTotalBytes: 2,
          load1: 0,
          diskFreeBytes: 3,
          at: '2026-11-22T10:00:00.000Z',
        },
      });
      const seen = collect(a);
      const deleted: BroadcastEvent = { type: 'worker-deleted', workerId: JOB_A };
      a.publish(stats(1));
      await new Promise((resolve) => setImmediate(resolve));
      a.publish(stats(2));
      a.publish(deleted);
      await new Promise((resolve) => setImmediate(resolve));
      // Delivered here at once; the other event of the tick went to the other replicas at once.
      expect(seen).toEqual([stats(1), stats(2), deleted]);
      const sent = (): unknown[] =>
        wire.map((p) => (JSON.parse(p) as { events: BroadcastEvent[] }).events);
      expect(sent()).toEqual([[deleted]]);
      await sleep(60);
      expect(sent()).toEqual([[deleted], [stats(1), stats(2)]]);
      // flush() does not wait for the window.
      a.publish(stats(3));
      a.flush();
      expect(sent().at(-1)).toEqual([stats(3)]);
      a.close();
    });

    it('does not even serialise events while no other replica listens', async () => {
      const wire: string[] = [];
      let listening = false;
      const a = createEventBus({
        coalesceWindowMs: 0,
        publishRemote: (p) => void wire.push(p),
        othersListening: () => listening,
      });
      const seen = collect(a);
      const event: BroadcastEvent = { type: 'worker-deleted', workerId: JOB_A };
      const stringify = jest.spyOn(JSON, 'stringify');
      a.publish(event);
      await new Promise((resolve) => setImmediate(resolve));
      expect(stringify).not.toHaveBeenCalled();
      stringify.mockRestore();
      expect(seen).toEqual([event]);
      expect(wire).toEqual([]);
      listening = true;
      a.publish(event);
      await new Promise((resolve) => setImmediate(resolve));
      expect(wire).toHaveLength(1);
      a.close();
    });

    it('ignores malformed payloads', async () => {
      const { b } = linkedPair();
      const seen = collect(b);
      await b.receiveRemote('{oops');
      expect(seen).toEqual([]);
    });
  });
});
