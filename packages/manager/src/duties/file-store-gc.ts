import type { ResolvedConfig } from '../config';
import type { FileStore } from '../services/file-store';
import { DUTY_LOCK_KEYS, type Duty } from './run-duties';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * The file store's garbage collection as a duty: hourly at most, and often enough that nothing
 * outlives its age by more than a quarter (`file_gc_age: 1h` collects every 15 minutes); never
 * more often than `duty_interval`. Off when both `file_gc_age` and `checkout_age` are 0.
 */
export function fileStoreGcDuty(files: FileStore, config: Readonly<ResolvedConfig>): Duty | null {
  const ages = [config.fileGcAgeMs, config.checkoutAgeMs].filter((ms) => ms > 0);
  if (ages.length === 0) return null;
  const every = Math.max(config.dutyIntervalMs, 100);
  return {
    name: 'file-store-gc',
    lockKey: DUTY_LOCK_KEYS.fileStoreGc,
    intervalMs: Math.max(every, Math.min(HOUR_MS, Math.min(...ages) / 4)),
    firstRunAfterMs: Math.min(every, MINUTE_MS),
    tick: () => files.collectGarbage(),
  };
}
