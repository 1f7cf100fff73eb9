/** One image waiting to become a job's last-rendered thumbnails. */
export interface PreviewItem {
  jobId: string;
  taskId: string;
  image: Buffer;
}

export interface PreviewQueueOptions<T extends PreviewItem> {
  /** Turns one image into thumbnails; errors go to `onError`. */
  process: (item: T) => Promise<void>;
  /** Images processed at the same time (each holds its decoded pixels in memory). @default 1 */
  concurrency?: number;
  /** Jobs that may have an image waiting; a new job beyond this drops the oldest. @default 64 */
  maxPendingJobs?: number;
  /** Bytes of waiting images; beyond this the oldest waiting images are dropped. @default 128 MiB */
  maxPendingBytes?: number;
  /** An image was dropped unprocessed: replaced by a newer one of its job, or the queue was full. */
  onDropped?: (item: T, reason: 'replaced' | 'queue-full' | 'closed') => void;
  onError?: (item: T, error: unknown) => void;
}

/** What the queue holds right now; for tests and logs. */
export interface PreviewQueueStats {
  pendingJobs: number;
  pendingBytes: number;
  running: number;
}

/** A bounded, per-job fair queue of images to make thumbnails of. */
export interface PreviewQueue<T extends PreviewItem> {
  /** Queues an image; a waiting image of the same job is replaced (it keeps its place in line). */
  submit(item: T): void;
  stats(): PreviewQueueStats;
  /** Resolves once nothing waits and nothing runs. */
  idle(): Promise<void>;
  /** Drops what waits, waits for what runs; later submits are dropped. */
  close(): Promise<void>;
}

/**
 * Creates the previews queue. Fairness: each job has at most one waiting image (its newest) and at
 * most one in work; jobs take turns in the order they started waiting, and a job whose image was
 * just processed goes to the back of the line. So a job uploading a frame every 100 ms gets one
 * thumbnail per turn and never delays another job by more than one image per running slot.
 * Memory: waiting bytes and waiting jobs are capped; when full, the image that waited longest is
 * dropped (its job will send a newer one with its next frame).
 */
export function createPreviewQueue<T extends PreviewItem>(
  options: PreviewQueueOptions<T>,
): PreviewQueue<T> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const maxPendingJobs = Math.max(1, options.maxPendingJobs ?? 64);
  const maxPendingBytes = options.maxPendingBytes ?? 128 * 1024 * 1024;
  // Insertion order is the line: Map#set on an existing key keeps the job's place.
  const pending = new Map<string, T>();
  const inWork = new Set<string>();
  let pendingBytes = 0;
  let closed = false;
  let idleWaiters: (() => void)[] = [];

  const drop = (jobId: string, reason: 'replaced' | 'queue-full' | 'closed'): void => {
    const item = pending.get(jobId);
    if (item === undefined) return;
    pending.delete(jobId);
    pendingBytes -= item.image.byteLength;
    options.onDropped?.(item, reason);
  };

  const settleIdle = (): void => {
    if (pending.size > 0 || inWork.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const pump = (): void => {
    while (!closed && inWork.size < concurrency) {
      let next: T | undefined;
      for (const [jobId, item] of pending) {
        if (!inWork.has(jobId)) {
          next = item;
          break;
        }
      }
      if (next === undefined) break;
      const item = next;
      pending.delete(item.jobId);
      pendingBytes -= item.image.byteLength;
      inWork.add(item.jobId);
      void options
        .process(item)
        .catch((error: unknown) => options.onError?.(item, error))
        .finally(() => {
          inWork.delete(item.jobId);
          // A newer image that arrived meanwhile waits behind the jobs already in line.
          const again = pending.get(item.jobId);
          if (again !== undefined) {
            pending.delete(item.jobId);
            pending.set(item.jobId, again);
          }
          pump();
          settleIdle();
        });
    }
    settleIdle();
  };

  return {
    submit(item) {
      if (closed) {
        options.onDropped?.(item, 'closed');
        return;
      }
      const size = item.image.byteLength;
      const previous = pending.get(item.jobId);
      if (previous !== undefined) {
        // Replace in place, keeping the job's turn.
        pendingBytes += size - previous.image.byteLength;
        pending.set(item.jobId, item);
        options.onDropped?.(previous, 'replaced');
      } else {
        while (pending.size > 0 && pending.size >= maxPendingJobs) {
          drop(pending.keys().next().value!, 'queue-full');
        }
        pending.set(item.jobId, item);
        pendingBytes += size;
      }
      // The newest image always stays: drop the ones that waited longest until the bytes fit.
      for (const jobId of pending.keys()) {
        if (pendingBytes <= maxPendingBytes) break;
        if (jobId !== item.jobId) drop(jobId, 'queue-full');
      }
      pump();
    },
    stats() {
      return { pendingJobs: pending.size, pendingBytes, running: inWork.size };
    },
    idle() {
      if (pending.size === 0 && inWork.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async close() {
      closed = true;
      for (const jobId of [...pending.keys()]) drop(jobId, 'closed');
      if (inWork.size > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
      settleIdle();
    },
  };
}
