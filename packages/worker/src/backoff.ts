export interface BackoffOptions {
  /** Delay before the first retry. */
  initialMs?: number;
  /** The delay never grows beyond this. */
  maxMs?: number;
  /** Share of the delay that is random, 0..1; spreads a fleet's reconnects after a manager restart. */
  jitter?: number;
  random?: () => number;
}

/** Exponential back-off with jitter: `attempt` 0 gives about `initialMs`, doubling up to `maxMs`. */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const initialMs = options.initialMs ?? 500;
  const maxMs = options.maxMs ?? 30_000;
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  // Jitter only shortens the delay, so the cap stays a cap.
  return Math.round(base * (1 - jitter * random()));
}

/** Resolves after `ms`, or at once (without rejecting) when `signal` is aborted. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
