/** One item's result in a batch: a value, or the error its caller gets. */
export type BatchResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Applies many callers' items in one go; answers each caller once the batch has committed. */
export interface GroupCommit<T, R> {
  submit(item: T): Promise<R>;
  /** Items waiting or in flight. */
  readonly pending: number;
}

/**
 * Creates a group commit: items submitted while a batch is in flight wait and go together in
 * the next one, so under load one transaction carries many callers' changes, and a lone caller
 * waits no longer than one turn of the event loop. `runBatch` answers one result per item, in
 * order; when it throws, every caller of that batch gets the error. At most `maxBatch` items go
 * in one batch and one batch runs at a time.
 */
export function createGroupCommit<T, R>(
  runBatch: (items: readonly T[]) => Promise<readonly BatchResult<R>[]>,
  options: { maxBatch?: number } = {},
): GroupCommit<T, R> {
  const maxBatch = options.maxBatch ?? 500;
  let queue: { item: T; resolve: (value: R) => void; reject: (error: unknown) => void }[] = [];
  let running = false;
  let scheduled = false;
  let inFlight = 0;

  const runNext = async (): Promise<void> => {
    scheduled = false;
    if (running || queue.length === 0) return;
    running = true;
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(batch.length);
    inFlight = batch.length;
    try {
      const results = await runBatch(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => {
        const result = results[index];
        if (!result) entry.reject(new Error('group commit: no result for an item'));
        else if (result.ok) entry.resolve(result.value);
        else entry.reject(result.error);
      });
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      inFlight = 0;
      running = false;
      if (queue.length > 0) schedule();
    }
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    // setImmediate, not a timer: callers that arrive in the same turn (a burst of socket
    // messages) share the first batch, and a lone caller is not delayed.
    setImmediate(() => void runNext());
  };

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!running) schedule();
      });
    },
    get pending() {
      return queue.length + inFlight;
    },
  };
}
