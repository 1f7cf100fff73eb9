import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { FarmError } from '@farm/core';

/** Which part of a log to read: the last `tail` bytes (from a line start), or a byte range. */
export type TaskLogRange = { tail?: number } | { offset: number; length: number };

/** A piece of a task's log, with where it sits in the whole file. */
export interface TaskLogChunk {
  text: string;
  /** The byte offset of `text` in the log. */
  offset: number;
  /** The log's size in bytes when it was read. */
  size: number;
}

/** Task logs as plain files on the shared storage, one per task. */
export interface TaskLogStore {
  /**
   * Appends `text` to the task's log, adding a trailing newline when it lacks one. Appends to one
   * task are written in call order. Resolves the number of bytes written.
   */
  append(jobId: string, taskId: string, text: string): Promise<number>;
  /** Reads part of the log; an absent log reads as empty. */
  read(jobId: string, taskId: string, range?: TaskLogRange): Promise<TaskLogChunk>;
  /** The log's size in bytes, 0 when there is none. */
  size(jobId: string, taskId: string): Promise<number>;
  /** The log file's path (for downloads). */
  pathOf(jobId: string, taskId: string): string;
  /** Removes every log of a job. */
  deleteJob(jobId: string): Promise<void>;
  /** Closes every open stream; later appends reopen them. */
  close(): Promise<void>;
}

export interface TaskLogStoreOptions {
  /** The storage root; logs go to `<dir>/logs/<jobId[0:2]>/<jobId>/<taskId>.log`. */
  dir: string;
  /** How many append streams stay open at once (least recently used ones are closed). */
  maxOpenStreams?: number;
  /** A stream unused this long is closed. */
  idleCloseMs?: number;
}

export const DEFAULT_MAX_OPEN_LOG_STREAMS = 256;
export const DEFAULT_LOG_STREAM_IDLE_MS = 30_000;
/** The longest tail one read returns; bigger logs are read in ranges. */
export const MAX_LOG_READ_BYTES = 16 * 1024 * 1024;

// Ids come from the database as uuids; anything else could escape the logs folder.
const SAFE_ID = /^[A-Za-z0-9-]{1,64}$/;

// How many job folders the store remembers as existing (a bound, not a tuning knob).
const MAX_KNOWN_DIRS = 10_000;

function openFd(file: string): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.open(file, 'a', (error, fd) => (error ? reject(error) : resolve(fd))),
  );
}

function checkId(kind: string, id: string): void {
  if (!SAFE_ID.test(id)) throw new FarmError('bad_request', `invalid ${kind} id "${id}"`);
}

/** A line the manager writes into a task log: `2026-11-22T10:00:00.000Z [manager] text`. */
export function formatManagerLine(text: string, now: Date = new Date()): string {
  return `${now.toISOString()} [manager] ${text}`;
}

interface OpenStream {
  key: string;
  /** The descriptor, once the file is open (opened for appending: every write lands at the end). */
  fd: number | undefined;
  lastUsed: number;
  // Appends of one task chain here so they land in call order even while the file is opening.
  tail: Promise<void>;
}

function writeFd(fd: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const rest = (offset: number): void =>
      fs.write(fd, data, offset, data.length - offset, null, (error, written) => {
        if (error) reject(error);
        else if (offset + written < data.length) rest(offset + written);
        else resolve();
      });
    rest(0);
  });
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => fs.close(fd, () => resolve()));
}

/**
 * Creates the task log store. Each active task keeps its log file open (a render writes
 * thousands of small chunks; reopening the file each time would cost a syscall pair per chunk),
 * in an LRU of at most `maxOpenStreams`, closed after `idleCloseMs` without writes. Appends are
 * plain `write` calls on the descriptor: a Node write stream per task cost more CPU than the
 * writes themselves at a thousand tasks a second, and one timer for all files replaces a timer
 * re-armed at every append.
 */
export function createTaskLogStore(options: TaskLogStoreOptions): TaskLogStore {
  const root = path.resolve(options.dir, 'logs');
  const maxOpen = Math.max(1, options.maxOpenStreams ?? DEFAULT_MAX_OPEN_LOG_STREAMS);
  const idleMs = options.idleCloseMs ?? DEFAULT_LOG_STREAM_IDLE_MS;
  // Map iteration order is insertion order: re-inserting on use makes the first entry the LRU.
  const open = new Map<string, OpenStream>();
  let sweeper: NodeJS.Timeout | null = null;

  function sweepIdle(): void {
    const now = Date.now();
    for (const entry of open.values()) {
      // Least recently used first: the first one still in use ends the sweep.
      if (now - entry.lastUsed < idleMs) break;
      void endStream(entry);
    }
    if (open.size === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = null;
    }
  }

  function watchIdle(): void {
    if (sweeper) return;
    sweeper = setInterval(sweepIdle, Math.max(10, Math.floor(idleMs / 2)));
    sweeper.unref();
  }

  function jobDir(jobId: string): string {
    checkId('job', jobId);
    return path.join(root, jobId.slice(0, 2), jobId);
  }

  function pathOf(jobId: string, taskId: string): string {
    checkId('task', taskId);
    return path.join(jobDir(jobId), `${taskId}.log`);
  }

  function endStream(entry: OpenStream): Promise<void> {
    if (open.get(entry.key) === entry) open.delete(entry.key);
    return entry.tail.then(
      () => (entry.fd === undefined ? undefined : closeFd(entry.fd)),
      // The file never opened (its append already got the error): nothing to close.
      () => undefined,
    );
  }

  // Job folders known to exist: a task's log is opened once per task, and creating its folder
  // every time (a recursive mkdir is a few syscalls) was most of the log store's cost at
  // thousands of tasks a second. A folder removed behind our back (another replica deleted the
  // job) is noticed by the failed open, which creates it again.
  const madeDirs = new Set<string>();

  async function openForAppend(file: string): Promise<number> {
    const dir = path.dirname(file);
    if (madeDirs.has(dir)) {
      try {
        return await openFd(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        madeDirs.delete(dir);
      }
    }
    await fsp.mkdir(dir, { recursive: true });
    if (madeDirs.size >= MAX_KNOWN_DIRS) madeDirs.clear();
    madeDirs.add(dir);
    return openFd(file);
  }

  function streamFor(file: string): OpenStream {
    const existing = open.get(file);
    if (existing) {
      open.delete(file);
      open.set(file, existing);
      existing.lastUsed = Date.now();
      return existing;
    }
    while (open.size >= maxOpen) {
      const oldest = open.values().next().value as OpenStream;
      void endStream(oldest);
    }
    const entry: OpenStream = {
      key: file,
      fd: undefined,
      lastUsed: Date.now(),
      tail: openForAppend(file).then((fd) => {
        entry.fd = fd;
      }),
    };
    open.set(file, entry);
    watchIdle();
    return entry;
  }

  async function size(jobId: string, taskId: string): Promise<number> {
    const file = pathOf(jobId, taskId);
    const entry = open.get(file);
    // Pending appends count: a reader right after an append sees its bytes.
    if (entry) await entry.tail.catch(() => {});
    try {
      return (await fsp.stat(file)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
  }

  return {
    pathOf,
    size,
    // async so a bad id rejects; everything up to the first await runs synchronously, which keeps
    // appends in call order.
    async append(jobId, taskId, text) {
      const file = pathOf(jobId, taskId);
      const data = Buffer.from(text.endsWith('\n') ? text : `${text}\n`, 'utf8');
      const entry = streamFor(file);
      const write = entry.tail.then(() => writeFd(entry.fd!, data));
      // A failed write must not poison later appends to the same file.
      entry.tail = write.catch(() => {});
      await write;
      return data.length;
    },
    async read(jobId, taskId, range = {}) {
      const file = pathOf(jobId, taskId);
      const total = await size(jobId, taskId);
      let offset: number;
      let length: number;
      if ('offset' in range) {
        offset = Math.min(Math.max(0, range.offset), total);
        length = Math.min(Math.max(0, range.length), total - offset, MAX_LOG_READ_BYTES);
      } else {
        const tail = Math.min(range.tail ?? total, MAX_LOG_READ_BYTES);
        offset = Math.max(0, total - tail);
        length = total - offset;
      }
      if (length === 0) return { text: '', offset, size: total };
      const handle = await fsp.open(file, 'r');
      try {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        let bytes = buffer.subarray(0, bytesRead);
        if (!('offset' in range) && offset > 0) {
          // A tail starts at a line boundary: drop the partial first line (unless the byte just
          // before the window ends a line, in which case the window already starts at one).
          const before = Buffer.alloc(1);
          await handle.read(before, 0, 1, offset - 1);
          if (before[0] !== 0x0a) {
            const newline = bytes.indexOf(0x0a);
            const skip = newline < 0 ? bytes.length : newline + 1;
            bytes = bytes.subarray(skip);
            offset += skip;
          }
        }
        return { text: bytes.toString('utf8'), offset, size: total };
      } finally {
        await handle.close();
      }
    },
    async deleteJob(jobId) {
      const dir = jobDir(jobId);
      madeDirs.delete(dir);
      const prefix = dir + path.sep;
      await Promise.all(
        [...open.values()].filter((e) => e.key.startsWith(prefix)).map((e) => endStream(e)),
      );
      await fsp.rm(dir, { recursive: true, force: true });
    },
    async close() {
      if (sweeper) clearInterval(sweeper);
      sweeper = null;
      await Promise.all([...open.values()].map((entry) => endStream(entry)));
    },
  };
}
