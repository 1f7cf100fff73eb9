import type { ValidationIssue } from '@farm/core';

const MAX_SEGMENT_LENGTH = 255;
// Control characters, and what Windows workers cannot have in a file name.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARACTERS = /[\u0000-\u001f<>:"|?*\\]/;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** Why a checkout path is refused, or null when it is a safe relative path. */
export function checkoutPathProblem(value: string): string | null {
  if (value.startsWith('/')) return 'must be relative, not an absolute path';
  if (/^[A-Za-z]:/.test(value)) return 'must be relative, not a path with a drive letter';
  if (value.includes('\\')) return 'must use "/" between folders, not "\\"';
  const segments = value.split('/');
  for (const segment of segments) {
    if (segment === '') return 'must not have empty folder names ("//" or a trailing "/")';
    if (segment === '..') return 'must not contain ".." (it would leave the checkout)';
    if (segment === '.') return 'must not contain "." segments';
    if (segment.length > MAX_SEGMENT_LENGTH) {
      return `has a name longer than ${MAX_SEGMENT_LENGTH} characters`;
    }
    if (FORBIDDEN_CHARACTERS.test(segment)) {
      return 'must not contain control characters or any of < > : " | ? * \\';
    }
    if (WINDOWS_DEVICE.test(segment)) return `"${segment}" is a reserved device name on Windows`;
    if (/[. ]$/.test(segment)) return 'names must not end in "." or a space (Windows drops them)';
  }
  return null;
}

/**
 * Every problem with a checkout's paths: unsafe paths (absolute, `..`, drive letters, ...),
 * duplicates (also ones differing only in case, which collide on Windows and macOS), and a file
 * that is also another file's folder. Issues point at `body.files[i].path`.
 */
export function checkCheckoutPaths(paths: readonly string[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Map<string, number>();
  paths.forEach((value, index) => {
    const where = `body.files[${index}].path`;
    const problem = checkoutPathProblem(value);
    if (problem) {
      issues.push({ path: where, message: `${JSON.stringify(value)} ${problem}` });
      return;
    }
    const key = value.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({
        path: where,
        message: `${JSON.stringify(value)} is given twice (also files[${first}]: ${JSON.stringify(paths[first])})`,
      });
      return;
    }
    seen.set(key, index);
  });
  paths.forEach((value, index) => {
    const segments = value.toLowerCase().split('/');
    for (let i = 1; i < segments.length; i++) {
      const folder = segments.slice(0, i).join('/');
      const clash = seen.get(folder);
      if (clash !== undefined) {
        issues.push({
          path: `body.files[${index}].path`,
          message: `${JSON.stringify(value)} needs a folder where files[${clash}] is a file (${JSON.stringify(paths[clash])})`,
        });
        return;
      }
    }
  });
  return issues;
}
