import type { LiveEvent, SubscriptionTopic } from '../api/api-types';
import { topicKey, topicKeysForEvent } from '../core-rules';
import { reconnectDelayMs, type BackoffOptions } from './backoff';

/** The part of the browser's WebSocket the connection uses (tests pass a fake). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LiveConnectionOptions {
  /** The websocket URL, token included; read at each (re)connect. */
  url(): string;
  createSocket(url: string): SocketLike;
  backoff?: BackoffOptions;
  timers?: Timers;
}

export type EventListener = (event: LiveEvent) => void;

/** A live-updates connection shared by every page: topics are reference-counted. */
export interface LiveConnection {
  /** Subscribes to a topic; returns the unsubscribe function. */
  subscribe(topic: SubscriptionTopic, id: string | undefined, listener: EventListener): () => void;
  /** Called on every state change; on `open` after a drop, pages refetch what they may have missed. */
  onState(listener: (state: ConnectionState, reconnected: boolean) => void): () => void;
  readonly state: ConnectionState;
  /** Milliseconds until the next attempt while closed, for the status line. */
  readonly nextAttemptMs: number | null;
  close(): void;
}

const OPEN = 1;

/**
 * Opens the socket on the first subscription, re-sends every subscription after a reconnect, and
 * reconnects with exponential back-off (reset once a connection opened).
 */
export function createLiveConnection(options: LiveConnectionOptions): LiveConnection {
  const timers: Timers = options.timers ?? {
    setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: (handle) => globalThis.clearTimeout(handle as number),
  };
  const listeners = new Map<string, Set<EventListener>>();
  const topics = new Map<string, { topic: SubscriptionTopic; id: string | undefined }>();
  const stateListeners = new Set<(state: ConnectionState, reconnected: boolean) => void>();
  let socket: SocketLike | null = null;
  let state: ConnectionState = 'closed';
  let attempt = 0;
  let everOpened = false;
  let retryTimer: unknown = null;
  let retryAt: number | null = null;
  let closedForGood = false;

  function setState(next: ConnectionState, reconnected = false): void {
    state = next;
    for (const listener of stateListeners) listener(next, reconnected);
  }

  function send(message: object): void {
    if (socket && socket.readyState === OPEN) socket.send(JSON.stringify(message));
  }

  function connect(): void {
    if (closedForGood || socket) return;
    retryTimer = null;
    retryAt = null;
    const ws = options.createSocket(options.url());
    socket = ws;
    setState('connecting');
    ws.onopen = () => {
      attempt = 0;
      for (const { topic, id } of topics.values()) {
        send(id === undefined ? { type: 'subscribe', topic } : { type: 'subscribe', topic, id });
      }
      const reconnected = everOpened;
      everOpened = true;
      setState('open', reconnected);
    };
    ws.onmessage = (message) => {
      if (typeof message.data !== 'string') return;
      let event: LiveEvent;
      try {
        event = JSON.parse(message.data) as LiveEvent;
      } catch {
        return;
      }
      for (const key of topicKeysForEvent(event)) {
        for (const listener of listeners.get(key) ?? []) listener(event);
      }
    };
    ws.onerror = () => undefined;
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      setState('closed');
      scheduleReconnect();
    };
  }

  function scheduleReconnect(): void {
    if (closedForGood || topics.size === 0 || retryTimer !== null) return;
    const delay = reconnectDelayMs(attempt, options.backoff);
    attempt += 1;
    retryAt = Date.now() + delay;
    retryTimer = timers.setTimeout(connect, delay);
  }

  return {
    subscribe(topic, id, listener) {
      const key = topicKey(topic, id);
      let set = listeners.get(key);
      if (!set) {
        set = new Set();
        listeners.set(key, set);
        topics.set(key, { topic, id });
        send(id === undefined ? { type: 'subscribe', topic } : { type: 'subscribe', topic, id });
      }
      set.add(listener);
      if (!socket && retryTimer === null) connect();
      return () => {
        const current = listeners.get(key);
        if (!current?.delete(listener) || current.size > 0) return;
        listeners.delete(key);
        topics.delete(key);
        send(
          id === undefined ? { type: 'unsubscribe', topic } : { type: 'unsubscribe', topic, id },
        );
      };
    },
    onState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    get state() {
      return state;
    },
    get nextAttemptMs() {
      return retryAt === null ? null : Math.max(0, retryAt - Date.now());
    },
    close() {
      closedForGood = true;
      if (retryTimer !== null) timers.clearTimeout(retryTimer);
      retryTimer = null;
      const ws = socket;
      socket = null;
      ws?.close(1000, 'page closed');
      setState('closed');
    },
  };
}
