import { FarmError } from '../../errors';

/**
 * The most frames one range may hold. A typo such as `1-10000000` must fail fast instead of
 * building a ten-million-entry array inside the manager.
 */
export const MAX_FRAME_RANGE_FRAMES = 1_000_000;

/** An inclusive run of frames, `start <= end`. */
export interface FrameInterval {
  start: number;
  end: number;
}

const SINGLE = /^-?\d+$/;
const DOTS = /^(-?\d+)\s*\.\.\s*(-?\d+)$/;
// `-` doubles as the minus sign, so the dash form only takes non-negative frames.
const DASH = /^(\d+)\s*-\s*(\d+)$/;

function invalid(message: string): FarmError {
  return new FarmError('validation_failed', message);
}

function toFrame(text: string, range: string): number {
  const frame = Number(text);
  if (!Number.isSafeInteger(frame)) {
    throw invalid(`frame range "${range}": frame number ${text} is too large`);
  }
  return frame;
}

function parsePart(part: string, range: string): FrameInterval {
  if (SINGLE.test(part)) {
    const frame = toFrame(part, range);
    return { start: frame, end: frame };
  }
  const match = DOTS.exec(part) ?? DASH.exec(part);
  if (!match) {
    throw invalid(
      `frame range "${range}": cannot parse "${part}"; use a frame (5, -3), ` +
        `a range A-B (1-10) or A..B (-5..5), separated by commas`,
    );
  }
  const start = toFrame(match[1]!, range);
  const end = toFrame(match[2]!, range);
  if (end < start) {
    throw invalid(`frame range "${range}": "${part}" ends before it starts (${end} < ${start})`);
  }
  return { start, end };
}

/**
 * Parses a frame range into sorted, non-overlapping, non-adjacent intervals without listing
 * every frame, so very large ranges can be measured and refused cheaply.
 */
export function parseFrameIntervals(range: string): FrameInterval[] {
  if (typeof range !== 'string' || range.trim() === '') {
    throw invalid('frame range is empty; give frames such as "1-250" or "1,5,10..20"');
  }
  const parts = range.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) {
    throw invalid(`frame range "${range}" has an empty part between commas`);
  }
  const intervals = parts.map((part) => parsePart(part, range)).sort((a, b) => a.start - b.start);
  const merged: FrameInterval[] = [];
  for (const interval of intervals) {
    const last = merged[merged.length - 1];
    if (last && interval.start <= last.end + 1) {
      last.end = Math.max(last.end, interval.end);
    } else {
      merged.push({ ...interval });
    }
  }
  const total = merged.reduce((sum, i) => sum + (i.end - i.start + 1), 0);
  if (total > MAX_FRAME_RANGE_FRAMES) {
    throw invalid(
      `frame range "${range}" has ${total} frames; at most ${MAX_FRAME_RANGE_FRAMES} are allowed ` +
        `(is there a typo?)`,
    );
  }
  return merged;
}

/**
 * Every frame of a range string, de-duplicated and sorted. Parts are separated by commas; each
 * is a frame (`5`, `-3`), `A-B` (non-negative) or `A..B` (any sign), inclusive.
 *
 * @throws FarmError `validation_failed` for an empty, unparsable, reversed or oversized range.
 * @example parseFrameRange('5,1-3,-2..-1') // [-2, -1, 1, 2, 3, 5]
 */
export function parseFrameRange(range: string): number[] {
  const frames: number[] = [];
  for (const { start, end } of parseFrameIntervals(range)) {
    for (let frame = start; frame <= end; frame++) frames.push(frame);
  }
  return frames;
}
