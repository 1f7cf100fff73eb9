import { isFarmError } from '../../errors';
import { frameCount } from './frame-count';

describe('frameCount', () => {
  it.each<[string, number]>([
    ['1', 1],
    ['1-10', 10],
    ['1..10', 10],
    ['1-10,5,20..21', 12],
    ['3,3,3', 1],
    ['-5..5', 11],
    ['1-1000000', 1_000_000],
  ])('%j has %d frames', (range, count) => {
    expect(frameCount(range)).toBe(count);
  });

  it.each(['', 'x', '5-1', '1-1000001'])('refuses %j like frameChunker does', (range) => {
    let thrown: unknown;
    try {
      frameCount(range);
    } catch (error) {
      thrown = error;
    }
    expect(isFarmError(thrown) && thrown.code).toBe('validation_failed');
  });
});
