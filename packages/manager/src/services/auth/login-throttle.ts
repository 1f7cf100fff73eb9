/** How failed logins are slowed. */
export interface LoginThrottleOptions {
  /** Failures allowed per account before each further attempt must wait. 5 by default. */
  freeAccountFailures?: number;
  /** The same per client address (it may try many accounts). 20 by default. */
  freeAddressFailures?: number;
  /** The first wait; it doubles with each failure after that. 1 s by default. */
  baseDelayMs?: number;
  /** The longest wait. 15 minutes by default. */
  maxDelayMs?: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  blockedUntil: number;
  lastFailureAt: number;
}

/** Slows password guessing per account and per address (in this process). */
export interface LoginThrottle {
  /** How long the account and address must still wait before an attempt (0: go ahead). */
  waitMs(account: string, address: string): number;
  recordFailure(account: string, address: string): void;
  recordSuccess(account: string): void;
}

const MAX_ENTRIES = 100_000;
// A key that has not failed for a day starts over.
const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Creates the login throttle: after the free failures, every further attempt on the account (or
 * from the address) must wait (the login answers 429) until a delay passes that doubles with each failure. A
 * success clears the account's count. State is per process; several replicas each allow their own
 * share (documented in docs/security.md).
 */
export function createLoginThrottle(options: LoginThrottleOptions = {}): LoginThrottle {
  const freeAccount = options.freeAccountFailures ?? 5;
  const freeAddress = options.freeAddressFailures ?? 20;
  const base = options.baseDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 15 * 60 * 1000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();

  const key = (kind: string, value: string): string => `${kind}:${value.toLowerCase()}`;

  function waitFor(k: string): number {
    const entry = entries.get(k);
    if (!entry) return 0;
    const t = now();
    if (t - entry.lastFailureAt > FORGET_AFTER_MS) {
      entries.delete(k);
      return 0;
    }
    return Math.max(0, entry.blockedUntil - t);
  }

  function fail(k: string, free: number): void {
    const t = now();
    const entry = entries.get(k) ?? { failures: 0, blockedUntil: 0, lastFailureAt: t };
    entry.failures += 1;
    entry.lastFailureAt = t;
    if (entry.failures >= free) {
      entry.blockedUntil = t + Math.min(max, base * 2 ** (entry.failures - free));
    }
    if (!entries.has(k) && entries.size >= MAX_ENTRIES) {
      entries.delete(entries.keys().next().value as string);
    }
    entries.set(k, entry);
  }

  return {
    waitMs(account, address) {
      return Math.max(waitFor(key('account', account)), waitFor(key('address', address)));
    },
    recordFailure(account, address) {
      fail(key('account', account), freeAccount);
      fail(key('address', address), freeAddress);
    },
    recordSuccess(account) {
      entries.delete(key('account', account));
    },
  };
}
