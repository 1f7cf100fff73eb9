import fs from 'node:fs/promises';
import { sql } from 'kysely';
import type { FileRef, MissingFile } from '@farm/core';
import { blobKey, type FileStoreDeps } from './file-store-deps';

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return null;
  }
}

/**
 * The files of `files` the store does not have (a row and a file on disk), each with the bytes an
 * interrupted upload left. The ones it has are marked used now, so garbage collection leaves them
 * for another `file_gc_age` while the client checks out.
 */
export async function findMissingFiles(
  deps: FileStoreDeps,
  files: readonly FileRef[],
): Promise<MissingFile[]> {
  const unique = new Map<string, FileRef>();
  for (const file of files) unique.set(blobKey(file.sha256, file.size), file);
  if (unique.size === 0) return [];
  const wanted = [...unique.values()];
  const { rows } = await sql<{ sha256: string; size: number }>`
    update file_blobs b set last_used_at = now()
    from unnest(${wanted.map((f) => f.sha256)}::text[], ${wanted.map((f) => f.size)}::bigint[])
      as w(sha256, size)
    where b.sha256 = w.sha256 and b.size = w.size
    returning b.sha256, b.size`.execute(deps.db);
  const known = new Set(rows.map((row) => blobKey(row.sha256, Number(row.size))));
  const missing: MissingFile[] = [];
  for (const file of wanted) {
    const onDisk = known.has(blobKey(file.sha256, file.size))
      ? await sizeOf(deps.layout.blobPath(file.sha256, file.size))
      : null;
    if (onDisk === file.size) continue;
    const partial = await sizeOf(deps.layout.partPath(file.sha256, file.size));
    missing.push({
      sha256: file.sha256,
      size: file.size,
      receivedBytes: partial !== null && partial < file.size ? partial : 0,
    });
  }
  return missing;
}
