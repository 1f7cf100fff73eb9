import fc from 'fast-check';
import { isFarmError } from '../../errors';
import { formatFrames, frameChunker, parseFrameRange } from './frame-chunker';
import { frameCount } from './frame-count';
import { MAX_FRAME_RANGE_FRAMES } from './frame-range';

function expectValidationError(fn: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(isFarmError(thrown)).toBe(true);
  expect((thrown as { code: string }).code).toBe('validation_failed');
  expect((thrown as Error).message).toMatch(message);
}

describe('parseFrameRange', () => {
  it.each<[string, number[]]>([
    ['1', [1]],
    ['0', [0]],
    ['1-5', [1, 2, 3, 4, 5]],
    ['1..5', [1, 2, 3, 4, 5]],
    [' 1 - 3 , 7 ', [1, 2, 3, 7]],
    ['3 .. 4', [3, 4]],
    ['5,1,3', [1, 3, 5]],
    ['1-3,2-4,3', [1, 2, 3, 4]],
    ['4,4,4', [4]],
    ['-3', [-3]],
    ['-5..-3', [-5, -4, -3]],
    ['-2..2', [-2, -1, 0, 1, 2]],
    ['10,-1..0', [-1, 0, 10]],
    ['7-7', [7]],
  ])('%j → %j', (range, frames) => {
    expect(parseFrameRange(range)).toEqual(frames);
  });

  it.each<[string, RegExp]>([
    ['', /empty/],
    ['   ', /empty/],
    ['1,,2', /empty part/],
    ['1,', /empty part/],
    ['abc', /cannot parse "abc"/],
    ['1-', /cannot parse "1-"/],
    ['1.5', /cannot parse "1.5"/],
    ['1...5', /cannot parse/],
    ['-5-3', /cannot parse "-5-3"/],
    ['1--3', /cannot parse/],
    ['1-2-3', /cannot parse/],
    ['10-1', /ends before it starts \(1 < 10\)/],
    ['5..-5', /ends before it starts/],
    ['99999999999999999999', /too large/],
    ['1-10000000', /10000000 frames; at most 1000000/],
    ['-1000000..0', /1000001 frames/],
  ])('refuses %j', (range, message) => {
    expectValidationError(() => parseFrameRange(range), message);
  });

  it('accepts exactly the frame limit, counting overlapping parts once', () => {
    expect(frameCount(`1-${MAX_FRAME_RANGE_FRAMES}`)).toBe(MAX_FRAME_RANGE_FRAMES);
    expect(frameCount(`1-600000,1-600000`)).toBe(600000);
    expect(parseFrameRange(`1-${MAX_FRAME_RANGE_FRAMES}`)).toHaveLength(MAX_FRAME_RANGE_FRAMES);
  });
});

describe('frameChunker', () => {
  it.each<[string, number, string[]]>([
    ['1-10', 3, ['1-3', '4-6', '7-9', '10']],
    ['1,2,3,5', 4, ['1-3,5']],
    ['1,2', 5, ['1,2']],
    ['1..5', 2, ['1,2', '3,4', '5']],
    ['1..5', 10, ['1-5']],
    ['1-4', 1, ['1', '2', '3', '4']],
    ['5,3,1,2,4,4', 5, ['1-5']],
    ['10,1,2,3,20,21', 10, ['1-3,10,20,21']],
    ['1,3,5,6,7,9', 6, ['1,3,5-7,9']],
    ['0', 1, ['0']],
    ['-5..-1', 5, ['-5..-1']],
    ['-2..2', 5, ['-2..2']],
    ['-2..2', 2, ['-2,-1', '0,1', '2']],
    ['-1..3', 3, ['-1..1', '2,3']],
    ['-3..-1,1-3', 6, ['-3..-1,1-3']],
  ])('frameChunker(%j, %d) → %j', (range, size, chunks) => {
    expect(frameChunker(range, size)).toEqual(chunks);
  });

  it.each<[number, RegExp]>([
    [0, /at least 1, got 0/],
    [-1, /got -1/],
    [1.5, /whole number.*1\.5/],
    [Number.NaN, /got NaN/],
    [Number.POSITIVE_INFINITY, /got Infinity/],
  ])('refuses chunk size %d', (size, message) => {
    expectValidationError(() => frameChunker('1-10', size), message);
  });

  it('passes range errors through', () => {
    expectValidationError(() => frameChunker('', 1), /empty/);
    expectValidationError(() => frameChunker('1-x', 1), /cannot parse/);
    expectValidationError(() => frameChunker('9-1', 1), /ends before/);
  });
});

describe('formatFrames', () => {
  it.each<[number[], string]>([
    [[], ''],
    [[1], '1'],
    [[1, 2], '1,2'],
    [[1, 2, 3], '1-3'],
    [[1, 2, 4, 5, 6], '1,2,4-6'],
    [[-4, -3, -2], '-4..-2'],
  ])('%j → %j', (frames, text) => {
    expect(formatFrames(frames)).toBe(text);
  });
});

// Ranges built from random parts in every syntax, so the properties cover the parser too.
const framePart = fc.oneof(
  fc.integer({ min: -50, max: 300 }).map(String),
  fc.tuple(fc.nat(300), fc.nat(40)).map(([a, n]) => `${a}${n % 2 === 0 ? '-' : ' - '}${a + n}`),
  fc.tuple(fc.integer({ min: -300, max: 300 }), fc.nat(40)).map(([a, n]) => `${a}..${a + n}`),
);
const rangeArb = fc
  .array(framePart, { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(', '));

describe('frame range properties', () => {
  it('chunks parse back to exactly the frames of the range, in order', () => {
    fc.assert(
      fc.property(rangeArb, fc.integer({ min: 1, max: 40 }), (range, size) => {
        const chunks = frameChunker(range, size);
        expect(chunks.flatMap((chunk) => parseFrameRange(chunk))).toEqual(parseFrameRange(range));
      }),
    );
  });

  it('every chunk holds at most chunkSize frames, and only the last may hold fewer', () => {
    fc.assert(
      fc.property(rangeArb, fc.integer({ min: 1, max: 40 }), (range, size) => {
        const counts = frameChunker(range, size).map((chunk) => frameCount(chunk));
        counts.forEach((count, i) => {
          expect(count).toBeLessThanOrEqual(size);
          if (i < counts.length - 1) expect(count).toBe(size);
        });
      }),
    );
  });

  it('frameCount equals the number of parsed frames', () => {
    fc.assert(
      fc.property(rangeArb, (range) => {
        expect(frameCount(range)).toBe(parseFrameRange(range).length);
      }),
    );
  });

  it('parsed frames are sorted and distinct', () => {
    fc.assert(
      fc.property(rangeArb, (range) => {
        const frames = parseFrameRange(range);
        frames.slice(1).forEach((frame, i) => expect(frame).toBeGreaterThan(frames[i]!));
      }),
    );
  });
});
