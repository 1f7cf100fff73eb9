import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { createKeepalive } from '../../src/ws/keepalive';

// Stands in for a socket: the keepalive only listens to it, pings it and terminates it.
class FakeSocket extends EventEmitter {
  pings = 0;
  terminated = false;
  ping(): void {
    this.pings++;
  }
  terminate(): void {
    this.terminated = true;
  }
}

describe('keepalive', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('does not ping a socket that keeps sending, and never ends it', () => {
    const keepalive = createKeepalive(1000);
    const socket = new FakeSocket();
    keepalive.track(socket as unknown as WebSocket);
    for (let i = 0; i < 10; i++) {
      jest.advanceTimersByTime(400);
      socket.emit('message', 'heartbeat');
    }
    expect(socket.pings).toBe(0);
    expect(socket.terminated).toBe(false);
    keepalive.stop();
  });

  it('pings a quiet socket once an interval and keeps it while it answers', () => {
    const keepalive = createKeepalive(1000);
    const socket = new FakeSocket();
    keepalive.track(socket as unknown as WebSocket);
    const answer = (): void => void setTimeout(() => socket.emit('pong'), 100);
    let answered = 0;
    for (let i = 0; i < 10; i++) {
      jest.advanceTimersByTime(500);
      if (socket.pings > answered) {
        answered = socket.pings;
        answer();
      }
    }
    // 5 s: about one ping a second, never more than one per half interval.
    expect(socket.pings).toBeGreaterThanOrEqual(4);
    expect(socket.pings).toBeLessThanOrEqual(5);
    expect(socket.terminated).toBe(false);
    keepalive.stop();
  });

  it('ends a socket within two intervals of its last sign of life', () => {
    const keepalive = createKeepalive(1000);
    const socket = new FakeSocket();
    keepalive.track(socket as unknown as WebSocket);
    jest.advanceTimersByTime(250);
    socket.emit('message', 'last words');
    jest.advanceTimersByTime(1500);
    expect(socket.pings).toBe(1);
    expect(socket.terminated).toBe(false);
    jest.advanceTimersByTime(500);
    expect(socket.terminated).toBe(true);
    keepalive.stop();
  });

  it('stops watching an untracked socket', () => {
    const keepalive = createKeepalive(1000);
    const socket = new FakeSocket();
    keepalive.track(socket as unknown as WebSocket);
    keepalive.untrack(socket as unknown as WebSocket);
    jest.advanceTimersByTime(5000);
    expect(socket.pings).toBe(0);
    expect(socket.terminated).toBe(false);
    expect(socket.listenerCount('message')).toBe(0);
    keepalive.stop();
  });
});
