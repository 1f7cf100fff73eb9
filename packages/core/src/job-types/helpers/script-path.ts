/**
 * Path helpers for job scripts. Scripts build paths for workers of any platform, so these never
 * consult the manager's OS: backslashes count as separators and results always use `/`.
 */
export interface ScriptPath {
  /** The last path component: `basename('C:\\out\\f.png')` is `f.png`. */
  basename(p: string): string;
  /** Everything before the last component; `.` when there is none. Keeps `//server` and `C:`. */
  dirname(p: string): string;
  /** Joins parts with `/`, collapsing duplicate separators and resolving `.` and `..`. */
  join(...parts: string[]): string;
  /** The basename without its last extension: `stem('/a/shot.v2.blend')` is `shot.v2`. */
  stem(p: string): string;
}

interface ParsedPath {
  /** '' (relative), '/', '//' (UNC), 'C:' (drive-relative) or 'C:/'. */
  root: string;
  segments: string[];
}

const DRIVE = /^[A-Za-z]:/;
const UNC = /^\/\/[^/]/;

function parse(p: string): ParsedPath {
  let rest = p.replace(/\\/g, '/');
  let root = '';
  if (DRIVE.test(rest)) {
    root = rest.slice(0, 2);
    rest = rest.slice(2);
    if (rest.startsWith('/')) root += '/';
  } else if (UNC.test(rest)) {
    root = '//';
  } else if (rest.startsWith('/')) {
    root = '/';
  }
  return { root, segments: rest.split('/').filter((s) => s !== '') };
}

function format(root: string, segments: readonly string[]): string {
  const text = root + segments.join('/');
  return text === '' ? '.' : text;
}

function basename(p: string): string {
  const { segments } = parse(p);
  return segments[segments.length - 1] ?? '';
}

function dirname(p: string): string {
  const { root, segments } = parse(p);
  // A UNC path's server name is part of its root, so `//server` is never cut down to `/`.
  const minimum = root === '//' ? 1 : 0;
  return format(root, segments.slice(0, Math.max(minimum, segments.length - 1)));
}

function join(...parts: string[]): string {
  const { root, segments } = parse(parts.filter((part) => part !== '').join('/'));
  const resolved: string[] = [];
  const floor = root === '//' ? 1 : 0;
  for (const segment of segments) {
    if (segment === '.') continue;
    const last = resolved[resolved.length - 1];
    if (segment === '..' && resolved.length > floor && last !== '..') resolved.pop();
    else if (segment === '..' && root !== '' && resolved.length <= floor) continue;
    else resolved.push(segment);
  }
  return format(root, resolved);
}

function stem(p: string): string {
  const base = basename(p);
  const dot = base.lastIndexOf('.');
  // A leading dot marks a hidden file, not an extension.
  return dot > 0 ? base.slice(0, dot) : base;
}

/** The `path` object job scripts see. */
export const scriptPath: ScriptPath = Object.freeze({ basename, dirname, join, stem });
