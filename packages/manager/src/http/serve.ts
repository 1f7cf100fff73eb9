import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Something tied to the HTTP server (a websocket endpoint) that must be closed with it. */
export interface ServerAttachment {
  /** Closes the attachment's connections (websockets with code 1001, going away). */
  close(): void | Promise<void>;
}

export interface StartServerOptions {
  port: number;
  /** Interface to listen on; all interfaces when absent. */
  host?: string;
  /** Called once the server exists, before it listens: websocket endpoints attach here. */
  attach?: ReadonlyArray<(server: Server) => ServerAttachment>;
  /** Releases long polls (`Wakeups.releaseAll`) so their requests can end. */
  releaseLongPolls?: () => void;
  /** How long `close()` waits for in-flight requests before cutting their connections. */
  shutdownTimeoutMs?: number;
}

export interface RunningServer {
  /** `http://host:port`, with the port really bound (useful with port 0). */
  url: string;
  port: number;
  server: Server;
  /**
   * Stops gracefully: stops accepting connections, releases long polls, closes websockets with
   * 1001, lets in-flight requests finish (up to `shutdownTimeoutMs`), then resolves. Idempotent.
   */
  close(): Promise<void>;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** Starts the HTTP server for `app` and everything attached to it. */
export async function startServer(
  app: RequestListener,
  options: StartServerOptions,
): Promise<RunningServer> {
  const server = createServer(app);
  const attachments = (options.attach ?? []).map((attach) => attach(server));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host =
    options.host && options.host !== '0.0.0.0' && options.host !== '::'
      ? options.host
      : '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;

  async function shutDown(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    options.releaseLongPolls?.();
    await Promise.allSettled(attachments.map(async (attachment) => attachment.close()));
    // Keep-alive connections with no request in flight would otherwise hold the server open.
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(
        () => resolve('timeout'),
        options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
      );
    });
    const outcome = await Promise.race([closed, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      server.closeAllConnections();
      await closed;
    }
  }

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    server,
    close: () => (closing ??= shutDown()),
  };
}
