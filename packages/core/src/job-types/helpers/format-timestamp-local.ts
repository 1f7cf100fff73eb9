import { FarmError } from '../../errors';

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/**
 * A date in the manager's local time as `YYYY-MM-DD_HHMMSS`, safe in file names.
 *
 * @example formatTimestampLocal(new Date(2024, 0, 31, 9, 5, 7)) // '2024-01-31_090507'
 */
export function formatTimestampLocal(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new FarmError('validation_failed', 'formatTimestampLocal needs a valid Date');
  }
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}_` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`
  );
}
