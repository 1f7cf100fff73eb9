import { Client, type ClientConfig } from 'pg';
import { assertChannelName, type DbLogger } from './db-logger';

type Handler = { onPayload: (payload: string) => void; onResubscribed?: () => void };

const MIN_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * LISTEN on a dedicated connection (a pooled one would be handed to someone else between
 * queries and lose its subscriptions). When the connection drops, it reconnects with backoff and
 * LISTENs again; notifications sent during the gap are lost, so handlers get `onResubscribed` to
 * catch up from the tables.
 */
export class PgListener {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private readonly channels = new Map<string, Set<Handler>>();
  private retryMs = MIN_RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly config: ClientConfig,
    private readonly log: DbLogger,
  ) {}

  async listen(
    channel: string,
    onPayload: (payload: string) => void,
    onResubscribed?: () => void,
  ): Promise<() => Promise<void>> {
    assertChannelName(channel);
    if (this.closed) throw new Error('the database is closed');
    const handler: Handler = { onPayload, onResubscribed };
    let handlers = this.channels.get(channel);
    const isNewChannel = handlers === undefined;
    if (!handlers) {
      handlers = new Set();
      this.channels.set(channel, handlers);
    }
    handlers.add(handler);
    try {
      const client = await this.ensureClient();
      if (isNewChannel) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      handlers.delete(handler);
      if (handlers.size === 0) this.channels.delete(channel);
      throw error;
    }
    const subscribed = handlers;
    return async () => {
      subscribed.delete(handler);
      if (subscribed.size > 0 || this.channels.get(channel) !== subscribed) return;
      this.channels.delete(channel);
      await this.client?.query(`UNLISTEN ${channel}`).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private ensureClient(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<Client> {
    const client = new Client(this.config);
    client.on('notification', (message) => {
      for (const handler of this.channels.get(message.channel) ?? []) {
        handler.onPayload(message.payload ?? '');
      }
    });
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    await client.connect();
    for (const channel of this.channels.keys()) await client.query(`LISTEN ${channel}`);
    if (this.closed) {
      await client.end();
      throw new Error('the database is closed');
    }
    this.client = client;
    return client;
  }

  private lost(client: Client, error?: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.closed) return;
    this.log.warn('database listener connection lost; reconnecting', {
      error: error?.message,
    });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.ensureClient().then(
        () => {
          this.retryMs = MIN_RETRY_MS;
          this.log.info('database listener reconnected');
          for (const handlers of this.channels.values()) {
            for (const handler of handlers) handler.onResubscribed?.();
          }
        },
        (error: Error) => {
          this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
          this.log.warn('database listener reconnect failed', { error: error.message });
          this.scheduleReconnect();
        },
      );
    }, this.retryMs);
    this.retryTimer.unref();
  }
}
