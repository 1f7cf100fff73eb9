/** Windows paths compare case-insensitively and accept either slash; POSIX paths do not. */
export function isWindowsPlatform(platform: string): boolean {
  return platform === 'windows';
}

function sameChar(a: string, b: string, windows: boolean): boolean {
  if (a === b) return true;
  if (!windows) return false;
  const slash = (c: string): string => (c === '\\' ? '/' : c);
  return slash(a).toLowerCase() === slash(b).toLowerCase();
}

/**
 * True when `text` starts with the path `prefix` and the prefix ends at a path boundary, so
 * `/mnt/render` matches `/mnt/render/x` but not `/mnt/renderfarm/x`.
 */
export function startsWithPath(text: string, prefix: string, windows: boolean): boolean {
  if (prefix === '' || text.length < prefix.length) return false;
  // Compared per character so the matched length is exactly `prefix.length` even where
  // lower-casing would change a string's length.
  for (let i = 0; i < prefix.length; i++) {
    if (!sameChar(text[i]!, prefix[i]!, windows)) return false;
  }
  const next = text[prefix.length];
  return next === undefined || next === '/' || (windows && next === '\\');
}
