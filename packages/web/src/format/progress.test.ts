import { formatProgress } from './progress';

describe('formatProgress', () => {
  it('says how many of how many are done', () => {
    expect(formatProgress(12, 40, 'frames')).toEqual({ fraction: 0.3, text: '12 of 40 frames' });
  });
  it('never shows more than the total or less than none', () => {
    expect(formatProgress(50, 40).text).toBe('40 of 40 tasks');
    expect(formatProgress(-1, 40).fraction).toBe(0);
  });
  it('handles a job without tasks', () => {
    expect(formatProgress(0, 0)).toEqual({ fraction: 0, text: 'no tasks' });
  });
});
