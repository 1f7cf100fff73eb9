import WebSocket from 'ws';
import { TOKENS, assignedTask, bearer, eventually, json, startTestManager } from './test-app';

describe('startServer', () => {
  it('closes gracefully: releases a pending long poll, closes websockets with 1001, then resolves', async () => {
    const manager = await startTestManager();
    const claim = fetch(`${manager.url}/api/v1/worker/claim`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...bearer(TOKENS.worker) },
      body: JSON.stringify({ waitMs: 60_000 }),
    });
    await eventually(() => manager.wakeups.size === 1);
    const socket = new WebSocket(`${manager.wsUrl}/api/v1/ws?token=${TOKENS.reader}`);
    await new Promise((resolve) => socket.once('open', resolve));
    const socketClosed = new Promise<number>((resolve) =>
      socket.once('close', (code) => resolve(code)),
    );

    const started = Date.now();
    await manager.close();
    expect(Date.now() - started).toBeLessThan(1500);

    const res = await claim;
    expect(res.status).toBe(204);
    expect(await socketClosed).toBe(1001);
    await expect(fetch(`${manager.url}/healthz`)).rejects.toThrow();
  });

  it('wakes a long poll when work arrives', async () => {
    const manager = await startTestManager();
    try {
      const claim = fetch(`${manager.url}/api/v1/worker/claim`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...bearer(TOKENS.worker) },
        body: JSON.stringify({ waitMs: 60_000 }),
      });
      await eventually(() => manager.wakeups.size === 1);
      manager.worker.queue.push(assignedTask());
      manager.wakeups.wakeAll();
      const res = await claim;
      expect(res.status).toBe(200);
      expect((await json(res)).id).toBe(assignedTask().id);
    } finally {
      await manager.close();
    }
  });

  it('releases the long poll of a client that went away', async () => {
    const manager = await startTestManager();
    try {
      const controller = new AbortController();
      const claim = fetch(`${manager.url}/api/v1/worker/claim`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...bearer(TOKENS.worker) },
        body: JSON.stringify({ waitMs: 60_000 }),
        signal: controller.signal,
      }).catch(() => 'aborted');
      await eventually(() => manager.wakeups.size === 1);
      controller.abort();
      expect(await claim).toBe('aborted');
      await eventually(() => manager.wakeups.size === 0);
    } finally {
      await manager.close();
    }
  });
});
