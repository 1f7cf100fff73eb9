import type { Colors } from './colors';
import { formatDuration } from './format-time';

/** The task counts a progress line needs. */
export interface ProgressCounts {
  completed: number;
  failed: number;
  total: number;
}

/** A progress line: `[#####-----] 5/10 tasks done, 1 failed, ETA 2m 10s, active`. */
export function formatProgress(
  counts: ProgressCounts,
  options: { status: string; etaMs?: number; width?: number; colors: Colors },
): string {
  const width = options.width ?? 30;
  const fraction = counts.total > 0 ? counts.completed / counts.total : 0;
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const failed =
    counts.failed > 0 ? options.colors.red(`${counts.failed} failed`) : `${counts.failed} failed`;
  const eta = options.etaMs === undefined ? 'ETA --' : `ETA ${formatDuration(options.etaMs)}`;
  return `${bar} ${counts.completed}/${counts.total} tasks done, ${failed}, ${eta}, ${options.colors.status(options.status)}`;
}

/**
 * Estimates the time left from the pace seen while watching: tasks completed since the watch
 * began over the time that took. Undefined until a task completes.
 */
export function estimateRemainingMs(
  start: { completed: number; at: number },
  now: { completed: number; total: number; at: number },
): number | undefined {
  const done = now.completed - start.completed;
  if (done <= 0 || now.at <= start.at) return undefined;
  const remaining = Math.max(0, now.total - now.completed);
  return ((now.at - start.at) / done) * remaining;
}
