import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { isSqlState, SQLSTATE } from '../../db/sqlstate';
import { removeCheckoutFolder } from './checkouts';
import type { FileStoreDeps } from './file-store-deps';

/** What one garbage-collection run removed. */
export interface FileGarbageReport {
  checkoutsRemoved: string[];
  blobsDeleted: number;
  bytesFreed: number;
  partialUploadsDeleted: number;
}

const BATCH = 500;

/**
 * Removes checkouts older than `checkout_age` (when set), then blobs no checkout uses that were
 * last used (uploaded, asked about, checked out) more than `file_gc_age` ago, and partial uploads
 * untouched for as long. Each blob goes in a transaction of its own that deletes its row, and so
 * holds its lock, while the file is unlinked: an upload or checkout of the same blob at that
 * moment waits and then stores or refuses it whole. `now` is for tests.
 */
export async function collectFileGarbage(
  deps: FileStoreDeps,
  now?: Date,
): Promise<FileGarbageReport> {
  const clock = now ? sql`${now.toISOString()}::timestamptz` : sql`now()`;
  const olderThan = (ms: number) =>
    sql`${clock} - ${ms}::double precision * interval '1 millisecond'`;
  const report: FileGarbageReport = {
    checkoutsRemoved: [],
    blobsDeleted: 0,
    bytesFreed: 0,
    partialUploadsDeleted: 0,
  };

  if (deps.config.checkoutAgeMs > 0) {
    const { rows } = await sql<{ id: string; name: string }>`
      delete from file_checkouts where created_at < ${olderThan(deps.config.checkoutAgeMs)}
      returning id, name`.execute(deps.db);
    for (const row of rows) {
      await removeCheckoutFolder(deps, row.name).catch((error: unknown) =>
        deps.logger.warn('could not remove an old checkout folder', {
          name: row.name,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
      report.checkoutsRemoved.push(row.id);
    }
    if (rows.length > 0) deps.logger.info('removed old checkouts', { count: rows.length });
  }

  if (deps.config.fileGcAgeMs <= 0) return report;
  const cutoff = olderThan(deps.config.fileGcAgeMs);
  const unused = sql`
    b.last_used_at < ${cutoff}
    and not exists (
      select 1 from file_checkout_files f where f.sha256 = b.sha256 and f.size = b.size)`;
  for (;;) {
    const { rows: candidates } = await sql<{ sha256: string; size: number }>`
      select b.sha256, b.size from file_blobs b where ${unused}
      order by b.last_used_at limit ${BATCH}`.execute(deps.db);
    let deletedThisRound = 0;
    for (const candidate of candidates) {
      try {
        const deleted = await deps.db.transaction().execute(async (trx) => {
          const { rows } = await sql<{ size: number }>`
            delete from file_blobs b
            where b.sha256 = ${candidate.sha256} and b.size = ${candidate.size} and ${unused}
            returning b.size`.execute(trx);
          if (rows.length === 0) return false;
          await fs.promises.rm(deps.layout.blobPath(candidate.sha256, Number(candidate.size)), {
            force: true,
          });
          return true;
        });
        if (deleted) {
          deletedThisRound++;
          report.blobsDeleted++;
          report.bytesFreed += Number(candidate.size);
        }
      } catch (error) {
        // A checkout started using it in the meantime: it stays.
        if (!isSqlState(error, SQLSTATE.FOREIGN_KEY_VIOLATION)) throw error;
      }
    }
    if (candidates.length < BATCH || deletedThisRound === 0) break;
  }

  report.partialUploadsDeleted = await deleteStaleParts(
    deps,
    (now ?? new Date()).getTime() - deps.config.fileGcAgeMs,
  );
  if (report.blobsDeleted > 0 || report.partialUploadsDeleted > 0) {
    deps.logger.info('file store garbage collected', { ...report, checkoutsRemoved: undefined });
  }
  return report;
}

async function deleteStaleParts(deps: FileStoreDeps, beforeMs: number): Promise<number> {
  let names: string[];
  try {
    names = await fs.promises.readdir(deps.layout.uploadsDir);
  } catch {
    return 0;
  }
  let deleted = 0;
  for (const name of names) {
    if (!name.endsWith('.part')) continue;
    const file = path.join(deps.layout.uploadsDir, name);
    // The busy set uses `sha256-size`, the part's name without `.part`.
    if (deps.uploading.has(name.slice(0, -'.part'.length))) continue;
    try {
      if ((await fs.promises.stat(file)).mtimeMs < beforeMs) {
        await fs.promises.rm(file, { force: true });
        deleted++;
      }
    } catch {
      // Finished or removed meanwhile.
    }
  }
  return deleted;
}
