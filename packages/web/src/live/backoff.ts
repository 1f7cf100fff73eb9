/** How long to wait before reconnect attempt `attempt` (0-based). */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** 0..1: the share of the delay that is random, so many browsers do not reconnect in step. */
  jitter?: number;
  random?: () => number;
}

/**
 * Exponential back-off: 500 ms, 1 s, 2 s, ... up to 15 s, each shortened by up to `jitter` of itself.
 * The first retry is quick because most drops are a manager restart that is back within a second.
 */
export function reconnectDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 15_000;
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const base = Math.min(max, initial * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.round(base * (1 - jitter * random()));
}
