import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Logger } from 'winston';
import { FarmError, validateSchema, type LiveEvent, type Subscription } from '@farm/core';
import { authorize, readBearerToken } from '../http/authenticate';
import { describeError, toErrorResponse } from '../http/error-response';
import type { AuthenticateToken, Principal } from '../http/principal';
import type { ServerAttachment } from '../http/serve';
import {
  TOPICS_NEEDING_ID,
  topicKey,
  topicKeysForEvent,
  type BroadcastEvent,
  type LiveTopic,
} from '@farm/core';
import { createKeepalive, DEFAULT_KEEPALIVE_INTERVAL_MS } from './keepalive';
import { closeAll } from './worker-socket';
import { readText } from './read-text';
import { acceptAuthenticatedUpgrade } from './authenticated-upgrade';
import { routeUpgrades } from './upgrade-router';

export const LIVE_SOCKET_PATH = '/api/v1/ws';
/** Close code for a client dropped because it does not read fast enough ("try again later"). */
export const CLOSE_TOO_SLOW = 1013;
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface LiveSocketDeps {
  logger: Logger;
  authenticateToken: AuthenticateToken;
  /** Where the events come from (the event bus). */
  events: { subscribe(listener: (event: BroadcastEvent) => void): () => void };
  /**
   * Whether a principal may see an event (e.g. a job of a project they have no role in). Called per
   * event and subscriber, so it must be cheap and synchronous. Everything is visible by default.
   */
  canSee?: (principal: Principal, event: BroadcastEvent) => boolean;
  /** The event as one subscriber may see it (per event and subscriber, so cheap). Default: as is. */
  redact?: (principal: Principal, event: BroadcastEvent) => BroadcastEvent;
  /** Checks a subscription to one job or task before it is acknowledged (issue 7). */
  authorizeSubscription?: (principal: Principal, topic: LiveTopic, id?: string) => Promise<void>;
  /** A client whose unsent data passes this is dropped with close code 1013. 4 MiB by default. */
  maxBufferedBytes?: number;
  keepaliveIntervalMs?: number;
  /** Subscriptions one client may hold. 1,000 by default. */
  maxSubscriptionsPerClient?: number;
}

/** The live-updates websocket endpoint. */
export interface LiveSocket extends ServerAttachment {
  /** Routes `/api/v1/ws` upgrades of `server` here; returns this. */
  attach(server: Server): LiveSocket;
  /** How many clients are connected. */
  readonly clientCount: number;
  close(): Promise<void>;
}

interface Client {
  ws: WebSocket;
  principal: Principal;
  keys: Set<string>;
}

// The scope each topic needs beyond the endpoint's own `jobs:read`.
const TOPIC_SCOPES: Partial<Record<LiveTopic, string>> = { workers: 'workers:read' };

/**
 * Creates the live-updates endpoint. Clients authenticate like the API: `Authorization: Bearer`,
 * or a `token` query parameter, because browsers cannot set headers on a websocket request (the
 * session cookie will be the browser's way later; the query form keeps scripts simple, and the
 * manager never logs query strings). They send `{ type: 'subscribe' | 'unsubscribe', topic, id? }`
 * and receive `{ type: 'subscribed', topic, id }` and then the events of their topics, each once
 * even when several of their topics match. A client that cannot keep up is dropped (1013) rather
 * than let its unsent events grow the manager's memory; it reconnects and refetches.
 */
export function createLiveSocket(deps: LiveSocketDeps): LiveSocket {
  const logger = deps.logger;
  const maxBuffered = deps.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const maxSubscriptions = deps.maxSubscriptionsPerClient ?? 1000;
  const canSee = deps.canSee ?? (() => true);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, clientTracking: false });
  const clients = new Set<Client>();
  const subscribers = new Map<string, Set<Client>>();
  const keepalive = createKeepalive(deps.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS);
  const detachers: Array<() => void> = [];
  let closing = false;

  function removeKey(client: Client, key: string): void {
    client.keys.delete(key);
    const set = subscribers.get(key);
    if (set?.delete(client) && set.size === 0) subscribers.delete(key);
  }

  function forget(client: Client): void {
    if (!clients.delete(client)) return;
    for (const key of [...client.keys]) removeKey(client, key);
    keepalive.untrack(client.ws);
  }

  function sendJson(client: Client, json: string): void {
    const ws = client.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > maxBuffered) {
      logger.warn('dropped a live client that does not keep up', {
        bufferedBytes: ws.bufferedAmount,
      });
      forget(client);
      ws.close(CLOSE_TOO_SLOW, 'too slow: reconnect and refetch');
      return;
    }
    ws.send(json);
  }

  function answer(client: Client, message: LiveEvent): void {
    sendJson(client, JSON.stringify(message));
  }

  function refuse(client: Client, error: unknown): void {
    const { body } = toErrorResponse(error, logger);
    answer(client, { type: 'error', code: body.code, message: body.message });
  }

  function onMessage(client: Client, data: RawData): void {
    let message: unknown;
    try {
      message = JSON.parse(readText(data));
    } catch {
      refuse(client, new FarmError('bad_request', 'messages must be JSON'));
      return;
    }
    const checked = validateSchema('Subscription', message);
    if (!checked.ok) {
      const list = checked.issues
        .map((issue) => `${issue.path || 'message'} ${issue.message}`)
        .join('; ');
      refuse(client, new FarmError('validation_failed', `invalid subscription: ${list}`));
      return;
    }
    const subscription: Subscription = checked.value;
    const topic = subscription.topic;
    if (TOPICS_NEEDING_ID.has(topic) && subscription.id === undefined) {
      refuse(client, new FarmError('validation_failed', `the topic "${topic}" needs an id`));
      return;
    }
    if ((topic === 'jobs' || topic === 'workers') && subscription.id !== undefined) {
      refuse(client, new FarmError('validation_failed', `the topic "${topic}" takes no id`));
      return;
    }
    const key = topicKey(topic, subscription.id);
    if (subscription.type === 'unsubscribe') {
      removeKey(client, key);
      return;
    }
    try {
      const scope = TOPIC_SCOPES[topic];
      if (scope) authorize({ auth: 'user', scope }, client.principal);
      if (!client.keys.has(key) && client.keys.size >= maxSubscriptions) {
        throw new FarmError(
          'rate_limited',
          `a client may hold at most ${maxSubscriptions} subscriptions`,
        );
      }
    } catch (error) {
      refuse(client, error);
      return;
    }
    if (deps.authorizeSubscription) {
      deps.authorizeSubscription(client.principal, topic, subscription.id).then(
        () => accept(client, key, subscription),
        (error: unknown) => refuse(client, error),
      );
      return;
    }
    accept(client, key, subscription);
  }

  function accept(client: Client, key: string, subscription: Subscription): void {
    if (!clients.has(client)) return;
    const topic = subscription.topic;
    client.keys.add(key);
    let set = subscribers.get(key);
    if (!set) subscribers.set(key, (set = new Set()));
    set.add(client);
    answer(
      client,
      subscription.id === undefined
        ? { type: 'subscribed', topic }
        : { type: 'subscribed', topic, id: subscription.id },
    );
  }

  function deliver(event: BroadcastEvent): void {
    const keys = topicKeysForEvent(event);
    let json: string | undefined;
    // A client subscribed to two matching topics (a job and `jobs`) gets the event once.
    const seen = keys.length > 1 ? new Set<Client>() : undefined;
    for (const key of keys) {
      const set = subscribers.get(key);
      if (!set) continue;
      for (const client of [...set]) {
        if (seen) {
          if (seen.has(client)) continue;
          seen.add(client);
        }
        if (!canSee(client.principal, event)) continue;
        const shown = deps.redact ? deps.redact(client.principal, event) : event;
        if (shown !== event) {
          sendJson(client, JSON.stringify(shown));
          continue;
        }
        json ??= JSON.stringify(event);
        sendJson(client, json);
      }
    }
  }

  const unsubscribeBus = deps.events.subscribe(deliver);

  function onConnection(ws: WebSocket, principal: Principal): void {
    const client: Client = { ws, principal, keys: new Set() };
    clients.add(client);
    keepalive.track(ws);
    ws.on('message', (data) => onMessage(client, data));
    ws.on('error', (error) => logger.debug('live socket error', { error: describeError(error) }));
    ws.on('close', () => forget(client));
  }

  function tokenOf(request: IncomingMessage): string | null {
    const header = readBearerToken(request.headers.authorization);
    if (header) return header;
    const query = (request.url ?? '').split('?')[1];
    const token = query ? new URLSearchParams(query).get('token') : null;
    return token && token.length <= 512 ? token : null;
  }

  function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    acceptAuthenticatedUpgrade({
      wss,
      request,
      socket,
      head,
      requirement: { auth: 'user', scope: 'jobs:read', role: 'viewer' },
      token: tokenOf(request),
      authenticateToken: deps.authenticateToken,
      logger,
      isClosing: () => closing,
      onAccepted: (ws, principal) => onConnection(ws, principal),
    });
  }

  const endpoint: LiveSocket = {
    attach(server) {
      detachers.push(routeUpgrades(server, LIVE_SOCKET_PATH, handleUpgrade));
      return endpoint;
    },
    get clientCount() {
      return clients.size;
    },
    async close() {
      closing = true;
      unsubscribeBus();
      keepalive.stop();
      for (const detach of detachers.splice(0)) detach();
      const sockets = [...clients].map((client) => client.ws);
      for (const client of [...clients]) forget(client);
      await closeAll(sockets);
      wss.close();
    },
  };
  return endpoint;
}

/** Creates the live-updates endpoint and routes `server`'s upgrades at its path to it. */
export function attachLiveSocket(server: Server, deps: LiveSocketDeps): LiveSocket {
  return createLiveSocket(deps).attach(server);
}
