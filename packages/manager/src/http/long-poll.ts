/** Why a long-poll wait ended. */
export type WakeReason = 'woken' | 'timeout' | 'aborted' | 'released';

/** Parks idle workers' claim requests until there may be work for them. */
export interface Wakeups {
  /**
   * Waits until `wake(workerId)`, `wakeAll()`, the timeout, the signal (the client went away) or
   * `releaseAll()` (shutdown), whichever comes first. Never rejects.
   */
  wait(workerId: string, timeoutMs: number, signal?: AbortSignal): Promise<WakeReason>;
  /** Wakes every pending wait of one worker; returns how many were woken. */
  wake(workerId: string): number;
  /** Wakes every pending wait (new work of unknown fit arrived); returns how many were woken. */
  wakeAll(): number;
  /** Ends every wait with `released` and makes later waits return at once: the server is stopping. */
  releaseAll(): void;
  /** How many waits are pending. */
  readonly size: number;
}

interface Waiter {
  workerId: string;
  resolve: (reason: WakeReason) => void;
  timer: NodeJS.Timeout;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** Creates the long-poll registry used by the claim endpoint (and anything else that waits). */
export function createWakeups(): Wakeups {
  // Several waits per worker are possible (a custom worker may poll twice); a Set keeps removal O(1).
  const byWorker = new Map<string, Set<Waiter>>();
  let pending = 0;
  let released = false;

  function settle(waiter: Waiter, reason: WakeReason): void {
    const set = byWorker.get(waiter.workerId);
    if (!set?.delete(waiter)) return;
    if (set.size === 0) byWorker.delete(waiter.workerId);
    pending--;
    clearTimeout(waiter.timer);
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.resolve(reason);
  }

  function settleAll(reason: WakeReason): number {
    let count = 0;
    for (const set of [...byWorker.values()]) {
      for (const waiter of [...set]) {
        settle(waiter, reason);
        count++;
      }
    }
    return count;
  }

  return {
    wait(workerId, timeoutMs, signal) {
      if (released) return Promise.resolve('released');
      if (signal?.aborted) return Promise.resolve('aborted');
      return new Promise<WakeReason>((resolve) => {
        const waiter: Waiter = {
          workerId,
          resolve,
          signal,
          timer: setTimeout(() => settle(waiter, 'timeout'), Math.max(0, timeoutMs)),
          onAbort: () => settle(waiter, 'aborted'),
        };
        signal?.addEventListener('abort', waiter.onAbort, { once: true });
        let set = byWorker.get(workerId);
        if (!set) byWorker.set(workerId, (set = new Set()));
        set.add(waiter);
        pending++;
      });
    },
    wake(workerId) {
      const set = byWorker.get(workerId);
      if (!set) return 0;
      const waiters = [...set];
      for (const waiter of waiters) settle(waiter, 'woken');
      return waiters.length;
    },
    wakeAll: () => settleAll('woken'),
    releaseAll() {
      released = true;
      settleAll('released');
    },
    get size() {
      return pending;
    },
  };
}
