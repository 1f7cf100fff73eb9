import { FarmError } from '@farm/core';

export interface LogBatcherOptions {
  /** A batch is sent as soon as it would grow beyond this many bytes. */
  maxBytes?: number;
  /** A line waits at most this long before it is sent, even when the process goes quiet. */
  maxDelayMs?: number;
  /** Sends one batch: lines joined and ending with `\n`. Calls never overlap and keep their order. */
  send: (lines: string) => void | Promise<void>;
  /** Where failures of automatic (size- or time-triggered) sends go; the default prints them. */
  onError?: (error: unknown) => void;
}

export interface LogBatcher {
  add(line: string): void;
  /** Sends what is buffered now; resolves when it and every earlier batch have been sent. */
  flush(): Promise<void>;
  /** Flushes and refuses further lines. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BYTES = 16 * 1024;
const DEFAULT_MAX_DELAY_MS = 1000;

/**
 * Collects log lines into batches for the manager. Unlike a check made only when the next line
 * arrives, a timer started by the first unsent line guarantees it leaves within `maxDelayMs`,
 * so the last lines of a process that goes quiet still show up promptly.
 */
export function createLogBatcher(options: LogBatcherOptions): LogBatcher {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const onError =
    options.onError ?? ((error: unknown) => console.error('log upload failed:', error));

  let lines: string[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  // Every send is chained after the previous one so batches never overtake each other.
  let chain: Promise<void> = Promise.resolve();

  const takeBatch = (): string | undefined => {
    clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0) return undefined;
    const batch = lines.join('\n') + '\n';
    lines = [];
    bytes = 0;
    return batch;
  };

  const enqueue = (batch: string): Promise<void> => {
    const sent = chain.then(() => options.send(batch));
    chain = sent.catch(() => undefined);
    return sent;
  };

  const flushInBackground = (): void => {
    const batch = takeBatch();
    if (batch !== undefined) enqueue(batch).catch(onError);
  };

  const flush = (): Promise<void> => {
    const batch = takeBatch();
    return batch === undefined ? chain : enqueue(batch);
  };

  return {
    add(line) {
      if (closed)
        throw new FarmError('conflict', 'the task log is closed; no more lines can be added');
      const size = Buffer.byteLength(line) + 1;
      if (bytes > 0 && bytes + size > maxBytes) flushInBackground();
      lines.push(line);
      bytes += size;
      if (bytes >= maxBytes) flushInBackground();
      else timer ??= setTimeout(flushInBackground, maxDelayMs);
    },
    flush,
    async close() {
      closed = true;
      await flush();
    },
  };
}
