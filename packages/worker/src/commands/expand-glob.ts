import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const WILDCARD = /[*?[]/;

/**
 * The files matching a glob (`*`, `?`, `[abc]`, `[!abc]` in any path segment), sorted by name.
 * Like glob(3), wildcards do not match a leading dot. Relative patterns resolve against `cwd`.
 * Node 20 has no `fs.glob`, and FFmpeg's own glob support is absent on Windows.
 */
export async function expandGlob(pattern: string, cwd: string): Promise<string[]> {
  const absolute = path.resolve(cwd, pattern);
  const { root } = path.parse(absolute);
  const segments = absolute
    .slice(root.length)
    .split(/[\\/]+/)
    .filter(Boolean);
  let bases = [root];
  for (const segment of segments) {
    if (!WILDCARD.test(segment)) {
      bases = bases.map((base) => path.join(base, segment));
      continue;
    }
    const matcher = globSegmentToRegExp(segment);
    const next: string[] = [];
    for (const base of bases) {
      const names = await readdir(base).catch(() => [] as string[]);
      for (const name of names) if (matcher.test(name)) next.push(path.join(base, name));
    }
    bases = next;
  }
  const existing = await Promise.all(bases.map(async (p) => ((await exists(p)) ? p : undefined)));
  return existing.filter((p): p is string => p !== undefined).sort();
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** A RegExp matching one path segment against a glob segment. */
export function globSegmentToRegExp(segment: string): RegExp {
  let source = segment.startsWith('.') ? '' : '(?!\\.)';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      source += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
