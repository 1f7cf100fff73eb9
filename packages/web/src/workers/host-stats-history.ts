import type { HostStats } from '../api/api-types';

/** The newest samples last; at most `max` (two minutes of 1 s heartbeats, or more at slower rates). */
export function appendSample(
  history: readonly HostStats[],
  sample: HostStats | null | undefined,
  max = 120,
): HostStats[] {
  if (!sample) return history as HostStats[];
  const last = history[history.length - 1];
  if (last && last.at === sample.at) return history as HostStats[];
  const next = [...history, sample];
  return next.length > max ? next.slice(next.length - max) : next;
}

/** SVG polyline points for values in 0..1, spread over `width` × `height`. */
export function sparklinePoints(values: readonly number[], width: number, height: number): string {
  if (values.length === 0) return '';
  // One sample is drawn as a flat line, so the graph says something from the first heartbeat on.
  if (values.length === 1)
    return sparklinePoints([values[0] as number, values[0] as number], width, height);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values
    .map((v, i) => {
      const clamped = Math.max(0, Math.min(1, Number.isFinite(v) ? v : 0));
      return `${(i * step).toFixed(1)},${(height - clamped * height).toFixed(1)}`;
    })
    .join(' ');
}

/** CPU use of each sample, 0..1. */
export function cpuValues(history: readonly HostStats[]): number[] {
  return history.map((s) => s.cpuPercent / 100);
}

/** Memory in use of one sample, 0..1 (0 when the total is unknown). */
export function memoryFraction(sample: HostStats): number {
  return sample.memoryTotalBytes > 0 ? sample.memoryUsedBytes / sample.memoryTotalBytes : 0;
}

/** Memory use of each sample, 0..1. */
export function memoryValues(history: readonly HostStats[]): number[] {
  return history.map(memoryFraction);
}

// Kept for the page's lifetime so the graph keeps its past when the user looks at another page.
const histories = new Map<string, HostStats[]>();

/** The remembered samples of one worker. */
export function workerHistory(workerId: string): HostStats[] {
  return histories.get(workerId) ?? [];
}

/** Records a sample for one worker and returns its samples. */
export function recordWorkerSample(
  workerId: string,
  sample: HostStats | null | undefined,
): HostStats[] {
  const next = appendSample(workerHistory(workerId), sample);
  histories.set(workerId, next);
  return next;
}
