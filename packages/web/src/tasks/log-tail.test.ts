import { appendToTail } from './log-tail';

describe('appendToTail', () => {
  it('appends and keeps only the last lines', () => {
    expect(appendToTail('a\nb\n', 'c\n', 10)).toBe('a\nb\nc\n');
    expect(appendToTail('a\nb\n', 'c\nd\n', 2)).toBe('c\nd\n');
  });
});
