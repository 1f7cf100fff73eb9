import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CliExit, EXIT_CODES } from '../exit-codes';

/** One file of a folder to upload: where it is, where it goes, and its content's name. */
export interface LocalFile {
  /** Absolute path on this machine. */
  absolute: string;
  /** Path in the checkout: relative to the folder, with `/` separators. */
  path: string;
  sha256: string;
  size: number;
}

/** Every regular file under `folder` (symbolic links followed), sorted by path. */
export function listFolder(folder: string): { absolute: string; path: string }[] {
  const root = path.resolve(folder);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new CliExit(EXIT_CODES.invalidInput, `${folder} does not exist`);
  }
  if (!stat.isDirectory()) throw new CliExit(EXIT_CODES.invalidInput, `${folder} is not a folder`);
  const found: { absolute: string; path: string }[] = [];
  const visit = (dir: string, seen: Set<string>) => {
    // A link back to a parent folder would make the walk endless.
    const real = fs.realpathSync(dir);
    if (seen.has(real)) return;
    const inside = new Set(seen).add(real);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const absolute = path.join(dir, entry.name);
      const entryStat = entry.isSymbolicLink() ? fs.statSync(absolute) : entry;
      if (entryStat.isDirectory()) visit(absolute, inside);
      else if (entryStat.isFile()) {
        found.push({ absolute, path: path.relative(root, absolute).split(path.sep).join('/') });
      }
    }
  };
  visit(root, new Set());
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A file's SHA-256 and size, read as a stream. */
export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Runs `work` over `items` with at most `limit` at a time; resolves to the results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(runners);
  return results;
}

/** Lists and hashes every file under `folder`, `concurrency` files at a time. */
export async function hashFolder(folder: string, concurrency = 4): Promise<LocalFile[]> {
  const files = listFolder(folder);
  return mapLimit(files, concurrency, async (file) => ({
    ...file,
    ...(await hashFile(file.absolute)),
  }));
}
