const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `10m`, `30s`, `1h`, `1h30m`, `250ms`, `2d`, or a plain number of milliseconds. */
export const DURATION_PATTERN = /^(\d+|(\d+(\.\d+)?(ms|s|m|h|d))+)$/;

/**
 * Milliseconds of a duration such as `10m`, `1h30m` or `250ms`; a number (or digits) is taken as
 * milliseconds already. Returns undefined for anything else.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const text = value.trim();
  if (!DURATION_PATTERN.test(text)) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] as string] as number);
  }
  return Math.round(total);
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `512kb`, `1mb`, `2gb`, `100b`, or a plain number of bytes (units are powers of 1024). */
export const BYTE_SIZE_PATTERN = /^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i;

/** Bytes of a size such as `1mb` or `512kb`; a number is bytes already. */
export function parseByteSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(value.trim());
  if (!match) return undefined;
  return Math.floor(Number(match[1]) * (SIZE_UNITS[(match[2] ?? 'b').toLowerCase()] as number));
}
