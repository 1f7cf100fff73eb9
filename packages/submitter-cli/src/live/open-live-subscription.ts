import WebSocket from 'ws';
import type { LiveEvent, SubscriptionTopic } from '@farm/core';

/** One topic to follow on the live-updates socket. */
export interface LiveTopicRequest {
  topic: SubscriptionTopic;
  id?: string;
}

export interface LiveSubscriptionOptions {
  /** The manager's base URL (http or https). */
  url: string;
  token: string;
  topics: LiveTopicRequest[];
  /** Every topic is acknowledged: events from now on are not missed. */
  onReady: () => void;
  onEvent: (event: LiveEvent) => void;
  /** The socket could not open, a subscription was refused, or the socket closed. Called once. */
  onFail: (reason: string) => void;
}

/** An open live-updates socket; `close()` ends it without calling `onFail`. */
export interface LiveSubscription {
  close(): void;
}

/** Opens `/api/v1/ws` and subscribes to the topics. */
export function openLiveSubscription(options: LiveSubscriptionOptions): LiveSubscription {
  const socketUrl = `${options.url.replace(/^http/i, 'ws')}/api/v1/ws`;
  // The header, not the `?token=` form: a token in a URL ends up in proxies' logs.
  const ws = new WebSocket(socketUrl, {
    headers: { Authorization: `Bearer ${options.token}` },
    handshakeTimeout: 5000,
  });
  let done = false;
  let pending = options.topics.length;
  const fail = (reason: string): void => {
    if (done) return;
    done = true;
    ws.removeAllListeners();
    ws.on('error', () => undefined);
    ws.terminate();
    options.onFail(reason);
  };

  ws.on('open', () => {
    for (const { topic, id } of options.topics) {
      ws.send(
        JSON.stringify(
          id === undefined ? { type: 'subscribe', topic } : { type: 'subscribe', topic, id },
        ),
      );
    }
  });
  ws.on('message', (data: WebSocket.RawData) => {
    let event: LiveEvent;
    try {
      event = JSON.parse(rawText(data)) as LiveEvent;
    } catch {
      return;
    }
    if (event.type === 'subscribed') {
      pending -= 1;
      if (pending === 0) options.onReady();
    } else if (event.type === 'error') {
      fail(`the manager refused the subscription: ${event.message}`);
    } else if (!done) {
      options.onEvent(event);
    }
  });
  ws.on('unexpected-response', (_request, response) => {
    fail(`the live-updates socket was refused with HTTP ${response.statusCode}`);
  });
  ws.on('error', (error) => fail(`live-updates socket error: ${error.message}`));
  ws.on('close', (code) => fail(`the live-updates socket closed (code ${code})`));

  return {
    close() {
      if (done) return;
      done = true;
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close();
    },
  };
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
