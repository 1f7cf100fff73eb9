/** "12 of 40 frames" style text for a progress bar's hover, and the fraction it shows. */
export function formatProgress(
  done: number,
  total: number,
  unit = 'tasks',
): { fraction: number; text: string } {
  if (total <= 0) return { fraction: 0, text: `no ${unit}` };
  const clamped = Math.min(Math.max(done, 0), total);
  return { fraction: clamped / total, text: `${clamped} of ${total} ${unit}` };
}
