/**
 * The row a key moves to in a table of `count` rows (`pageSize` rows visible), or null when the
 * key is not a movement key. -1 means "no row yet": any movement starts at the first row.
 */
export function nextRowIndex(
  key: string,
  current: number,
  count: number,
  pageSize = 10,
): number | null {
  if (count === 0) return null;
  const clamp = (n: number) => Math.max(0, Math.min(count - 1, n));
  switch (key) {
    case 'ArrowDown':
    case 'j':
      return current < 0 ? 0 : clamp(current + 1);
    case 'ArrowUp':
    case 'k':
      return current < 0 ? 0 : clamp(current - 1);
    case 'PageDown':
      return clamp(current + pageSize);
    case 'PageUp':
      return clamp(current - pageSize);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}
