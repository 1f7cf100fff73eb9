import { isFarmError } from '../../errors';
import { formatTimestampLocal } from './format-timestamp-local';

describe('formatTimestampLocal', () => {
  it.each<[Date, string]>([
    [new Date(2024, 0, 31, 9, 5, 7), '2024-01-31_090507'],
    [new Date(1999, 11, 31, 23, 59, 59, 999), '1999-12-31_235959'],
    [new Date(2030, 5, 1, 0, 0, 0), '2030-06-01_000000'],
  ])('%s → %s', (date, text) => {
    expect(formatTimestampLocal(date)).toBe(text);
  });

  it('uses local time, not UTC', () => {
    const date = new Date(Date.UTC(2024, 2, 10, 12, 0, 0));
    const expectedHour = String(date.getHours()).padStart(2, '0');
    expect(formatTimestampLocal(date).slice(11, 13)).toBe(expectedHour);
  });

  it('refuses an invalid date instead of writing NaN into a path', () => {
    let thrown: unknown;
    try {
      formatTimestampLocal(new Date('not a date'));
    } catch (error) {
      thrown = error;
    }
    expect(isFarmError(thrown)).toBe(true);
  });
});
