import { FarmError } from '../../errors';
import { parseFrameRange } from './frame-range';

export { parseFrameRange } from './frame-range';

/**
 * Writes sorted frames back as compact range text: runs of three or more become `a-b` (or
 * `a..b` when `a` is negative, since `-` cannot separate negative frames), two frames `a,b`.
 */
export function formatFrames(frames: readonly number[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < frames.length) {
    let j = i;
    while (j + 1 < frames.length && frames[j + 1] === frames[j]! + 1) j++;
    const first = frames[i]!;
    const last = frames[j]!;
    if (j - i >= 2) out.push(first < 0 ? `${first}..${last}` : `${first}-${last}`);
    else for (let k = i; k <= j; k++) out.push(String(frames[k]));
    i = j + 1;
  }
  return out.join(',');
}

/**
 * Splits a frame range into chunks of at most `chunkSize` frames, each written as range text.
 *
 * @throws FarmError `validation_failed` for a bad range or a chunk size that is not a positive integer.
 * @example frameChunker('1-10', 3) // ['1-3', '4-6', '7-9', '10']
 */
export function frameChunker(range: string, chunkSize: number): string[] {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new FarmError(
      'validation_failed',
      `chunk size must be a whole number of at least 1, got ${String(chunkSize)}`,
    );
  }
  const frames = parseFrameRange(range);
  const chunks: string[] = [];
  for (let i = 0; i < frames.length; i += chunkSize) {
    chunks.push(formatFrames(frames.slice(i, i + chunkSize)));
  }
  return chunks;
}
