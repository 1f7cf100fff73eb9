import { parseFrameIntervals } from './frame-range';

/**
 * The number of distinct frames in a range string (same syntax and errors as `frameChunker`).
 *
 * @example frameCount('1-10,5,20..21') // 12
 */
export function frameCount(range: string): number {
  return parseFrameIntervals(range).reduce((sum, i) => sum + (i.end - i.start + 1), 0);
}
