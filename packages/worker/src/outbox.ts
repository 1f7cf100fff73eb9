import { open, readFile, rename, mkdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { backoffDelayMs, type BackoffOptions } from './backoff';
import { MAX_TASK_UPDATE_LOG_CHARS, type TaskUpdateBody } from './protocol';

/** One queued task update. `seq` orders all updates of this worker. */
export interface OutboxEntry {
  seq: number;
  taskId: string;
  update: TaskUpdateBody;
}

/**
 * How the manager answered one update: `sent`; `not-yours` (409: the task is no longer this
 * worker's, so its remaining updates are dropped and it is abandoned); `rejected` (an answer that
 * retrying will not change, such as 400: that update is dropped). Throwing means "not delivered,
 * try again later" (the manager is unreachable or busy).
 */
export type OutboxSendResult = 'sent' | 'not-yours' | 'rejected';

export interface OutboxOptions {
  /** The JSON-lines file; created with its folder. */
  file: string;
  send: (entry: OutboxEntry) => Promise<OutboxSendResult>;
  /** A task the manager no longer assigns to this worker. */
  onAbandon?: (taskId: string) => void;
  /** A dropped update, for the worker's log. */
  onRejected?: (entry: OutboxEntry) => void;
  /** Writes are fsync'd together at most this often (group commit). 50 ms by default. */
  syncIntervalMs?: number;
  /** Delays between attempts while the manager cannot be reached. */
  retryBackoff?: BackoffOptions;
}

/**
 * A file-backed, ordered queue of task updates: the worker's memory of what the manager has not
 * heard yet, surviving a manager outage and a worker restart. Updates leave strictly in the order
 * they were queued, one at a time, so a task's log lines and its final status arrive in order.
 * Delivery is at least once: after a crash the last updates before the crash may be sent again.
 */
export interface Outbox {
  /** Queues an update; false (and nothing queued) when the task was abandoned. */
  enqueue(taskId: string, update: TaskUpdateBody): boolean;
  /** Tries to send now (the connection is back). */
  resume(): void;
  /** Resolves true once everything queued so far is sent, false after `timeoutMs`. */
  drain(timeoutMs?: number, signal?: AbortSignal): Promise<boolean>;
  readonly size: number;
  isAbandoned(taskId: string): boolean;
  /** The manager assigned this task (again): accept its updates even if it was abandoned before. */
  adopt(taskId: string): void;
  /** Writes what is buffered to disk and stops sending; queued updates stay in the file. */
  close(): Promise<void>;
}

type Line =
  { s: number; t: string; u: TaskUpdateBody } | { a: number } | { x: string; upTo: number };

const MERGE_LIMIT_CHARS = MAX_TASK_UPDATE_LOG_CHARS / 2;

/**
 * Opens (or creates) an outbox. Updates left in the file by an earlier run are queued again, in
 * their order, and the file is rewritten with only those.
 */
export async function openOutbox(options: OutboxOptions): Promise<Outbox> {
  await mkdir(path.dirname(options.file), { recursive: true });
  const leftover = await readLeftover(options.file);
  // Compact: the new file holds only what is still to be sent, renumbered from 1.
  const queue: OutboxEntry[] = leftover.entries.map((e, i) => ({ ...e, seq: i + 1 }));
  const abandoned = new Set<string>(leftover.abandoned);
  const temp = `${options.file}.tmp`;
  const tempHandle = await open(temp, 'w', 0o600);
  await tempHandle.writeFile(queue.map((e) => JSON.stringify(toLine(e)) + '\n').join(''));
  await tempHandle.sync();
  await tempHandle.close();
  await rename(temp, options.file);
  const handle = await open(options.file, 'a', 0o600);
  return createOutbox(options, handle, queue, abandoned);
}

function createOutbox(
  options: OutboxOptions,
  handle: FileHandle,
  queue: OutboxEntry[],
  abandoned: Set<string>,
): Outbox {
  const syncIntervalMs = options.syncIntervalMs ?? 50;
  let seq = queue.reduce((max, e) => Math.max(max, e.seq), 0);
  let buffer: string[] = [];
  let writeTimer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let pumping = false;
  let closed = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const drainWaiters = new Set<() => void>();

  let handleClosed = false;
  const write = (line: Line): void => {
    // A send that was under way when the outbox closed: it is sent again at the next start.
    if (handleClosed) return;
    buffer.push(JSON.stringify(line) + '\n');
    writeTimer ??= setTimeout(() => void flushToDisk(), syncIntervalMs);
  };

  function flushToDisk(): Promise<void> {
    clearTimeout(writeTimer);
    writeTimer = undefined;
    const data = buffer.join('');
    buffer = [];
    const emptyNow = queue.length === 0;
    writing = writing.then(async () => {
      try {
        // Nothing left to send: everything in the file is history, so start it afresh.
        if (emptyNow) await handle.truncate(0);
        else if (data !== '') await handle.write(data);
        else return;
        await handle.datasync();
      } catch (error) {
        console.error('outbox: cannot write', error);
      }
    });
    return writing;
  }

  const notifyDrained = (): void => {
    if (queue.length > 0) return;
    for (const wake of [...drainWaiters]) wake();
  };

  // Consecutive updates of one task that change no status are sent as one: after an outage,
  // minutes of log lines go in a few requests instead of thousands.
  const takeBatch = (): { entry: OutboxEntry; count: number } | undefined => {
    const head = queue[0];
    if (head === undefined) return undefined;
    if (head.update.status !== undefined) return { entry: head, count: 1 };
    const merged: TaskUpdateBody = { ...head.update };
    let count = 1;
    for (let i = 1; i < queue.length; i++) {
      const next = queue[i]!;
      if (next.taskId !== head.taskId || next.update.status !== undefined) break;
      const logLength = (merged.log?.length ?? 0) + (next.update.log?.length ?? 0);
      if (logLength > MERGE_LIMIT_CHARS) break;
      const log = next.update.log === undefined ? merged.log : (merged.log ?? '') + next.update.log;
      Object.assign(merged, next.update);
      if (log !== undefined) merged.log = log;
      count++;
    }
    const last = queue[count - 1]!;
    return { entry: { seq: last.seq, taskId: head.taskId, update: merged }, count };
  };

  const dropTask = (taskId: string): void => {
    abandoned.add(taskId);
    for (let i = queue.length - 1; i >= 0; i--) if (queue[i]!.taskId === taskId) queue.splice(i, 1);
    write({ x: taskId, upTo: seq });
  };

  async function pump(): Promise<void> {
    if (pumping || closed) return;
    pumping = true;
    try {
      for (;;) {
        if (closed) return;
        const batch = takeBatch();
        if (batch === undefined) return;
        let result: OutboxSendResult;
        try {
          result = await options.send(batch.entry);
        } catch {
          failures++;
          clearTimeout(retryTimer);
          retryTimer = setTimeout(
            () => void pump(),
            backoffDelayMs(failures, options.retryBackoff),
          );
          return;
        }
        failures = 0;
        if (result === 'not-yours') {
          dropTask(batch.entry.taskId);
          options.onAbandon?.(batch.entry.taskId);
        } else {
          if (result === 'rejected') options.onRejected?.(batch.entry);
          queue.splice(0, batch.count);
          write({ a: batch.entry.seq });
        }
        notifyDrained();
      }
    } finally {
      pumping = false;
    }
  }

  return {
    enqueue(taskId, update) {
      if (closed || abandoned.has(taskId)) return false;
      const entry: OutboxEntry = { seq: ++seq, taskId, update };
      queue.push(entry);
      write(toLine(entry));
      if (failures === 0) void pump();
      return true;
    },
    resume() {
      clearTimeout(retryTimer);
      failures = 0;
      void pump();
    },
    drain(timeoutMs = Number.POSITIVE_INFINITY, signal) {
      if (queue.length === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const done = (value: boolean): void => {
          drainWaiters.delete(onDrained);
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        };
        const onDrained = (): void => done(true);
        const onAbort = (): void => done(false);
        drainWaiters.add(onDrained);
        if (Number.isFinite(timeoutMs)) timer = setTimeout(() => done(false), timeoutMs);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    get size() {
      return queue.length;
    },
    isAbandoned: (taskId) => abandoned.has(taskId),
    adopt(taskId) {
      abandoned.delete(taskId);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      await flushToDisk();
      handleClosed = true;
      clearTimeout(writeTimer);
      await handle.close();
    },
  };
}

function toLine(entry: OutboxEntry): Line {
  return { s: entry.seq, t: entry.taskId, u: entry.update };
}

async function readLeftover(
  file: string,
): Promise<{ entries: OutboxEntry[]; abandoned: string[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { entries: [], abandoned: [] };
  }
  const entries: OutboxEntry[] = [];
  const drops: Array<{ taskId: string; upTo: number }> = [];
  let acked = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let line: Partial<Record<string, unknown>>;
    try {
      line = JSON.parse(raw) as Partial<Record<string, unknown>>;
    } catch {
      continue; // the last line of a crashed run may be cut short
    }
    if (typeof line.s === 'number' && typeof line.t === 'string' && typeof line.u === 'object')
      entries.push({ seq: line.s, taskId: line.t, update: line.u as TaskUpdateBody });
    else if (typeof line.a === 'number') acked = Math.max(acked, line.a);
    else if (typeof line.x === 'string' && typeof line.upTo === 'number')
      drops.push({ taskId: line.x, upTo: line.upTo });
  }
  const left = entries.filter(
    (e) => e.seq > acked && !drops.some((d) => d.taskId === e.taskId && e.seq <= d.upTo),
  );
  left.sort((a, b) => a.seq - b.seq);
  return { entries: left, abandoned: drops.map((d) => d.taskId) };
}
