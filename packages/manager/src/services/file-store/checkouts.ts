import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import {
  FarmError,
  validationError,
  type Checkout,
  type CheckoutRequest,
  type FileRef,
} from '@farm/core';
import { isSqlState, SQLSTATE } from '../../db/sqlstate';
import type { FileCheckoutsTable } from '../../db/file-store-tables';
import type { Selectable } from 'kysely';
import { checkCheckoutPaths } from './check-checkout-paths';
import { blobKey, type FileStoreDeps } from './file-store-deps';
import { CHECKOUTS_VARIABLE } from './file-store-layout';

const MAX_NAME_ATTEMPTS = 100;
const MAX_MISSING_LISTED = 1000;

type CheckoutRow = Selectable<FileCheckoutsTable>;

function toApiCheckout(deps: FileStoreDeps, row: CheckoutRow, linkedFiles?: number): Checkout {
  return {
    id: row.id,
    name: row.name,
    path: `{${CHECKOUTS_VARIABLE}}/${row.name}`,
    managerPath: deps.layout.checkoutPath(row.name),
    fileCount: Number(row.file_count),
    totalBytes: Number(row.total_bytes),
    ...(linkedFiles === undefined ? {} : { linkedFiles }),
    createdAt: new Date(row.created_at).toISOString(),
  };
}

function defaultName(): string {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `checkout-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** `name`, `name-2`, `name-3`, ... kept within the name pattern's 100 characters. */
function candidateName(name: string, attempt: number): string {
  if (attempt === 1) return name;
  const suffix = `-${attempt}`;
  return `${name.slice(0, 100 - suffix.length)}${suffix}`;
}

/** Hard-links `from` to `to`, or copies it where a link cannot be made (another file system). */
async function linkOrCopy(from: string, to: string): Promise<boolean> {
  try {
    await fs.promises.link(from, to);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EEXIST') throw error;
    await fs.promises.copyFile(from, to);
    return false;
  }
}

function missingError(missing: FileRef[]): FarmError {
  return new FarmError(
    'conflict',
    `${missing.length} file${missing.length === 1 ? ' is' : 's are'} not in the file store; upload ${missing.length === 1 ? 'it' : 'them'} and check out again`,
    { details: { reason: 'files-missing', missing: missing.slice(0, MAX_MISSING_LISTED) } },
  );
}

/**
 * Makes a checkout: checks every path (all problems at once), records the checkout and its files
 * (the foreign key to each blob keeps garbage collection off them from here on), then builds the
 * folder beside its final place and renames it in, so a job never sees half a checkout. Files
 * the store lacks are refused with `details.missing`; nothing is made then.
 */
export async function createCheckout(
  deps: FileStoreDeps,
  request: CheckoutRequest,
  createdBy: string | null,
): Promise<Checkout> {
  const issues = checkCheckoutPaths(request.files.map((file) => file.path));
  if (issues.length > 0) {
    throw validationError(
      `the checkout has ${issues.length} bad path${issues.length === 1 ? '' : 's'}; nothing was made: ${issues[0]!.message}${issues.length > 1 ? ', ...' : ''}`,
      issues,
    );
  }
  const blobs = new Map<string, FileRef>();
  for (const file of request.files) {
    blobs.set(blobKey(file.sha256, file.size), { sha256: file.sha256, size: file.size });
  }
  const wanted = [...blobs.values()];
  const { rows: known } = await sql<{ sha256: string; size: number }>`
    select b.sha256, b.size from file_blobs b
    join unnest(${wanted.map((f) => f.sha256)}::text[], ${wanted.map((f) => f.size)}::bigint[])
      as w(sha256, size) on b.sha256 = w.sha256 and b.size = w.size`.execute(deps.db);
  const have = new Set(known.map((row) => blobKey(row.sha256, Number(row.size))));
  const missing: FileRef[] = [];
  for (const blob of wanted) {
    if (!have.has(blobKey(blob.sha256, blob.size))) missing.push(blob);
    else if (!fs.existsSync(deps.layout.blobPath(blob.sha256, blob.size))) missing.push(blob);
  }
  if (missing.length > 0) throw missingError(missing);

  const totalBytes = request.files.reduce((sum, file) => sum + file.size, 0);
  const baseName = request.name ?? defaultName();
  let row: CheckoutRow | undefined;
  for (let attempt = 1; !row && attempt <= MAX_NAME_ATTEMPTS; attempt++) {
    const name = candidateName(baseName, attempt);
    if (fs.existsSync(deps.layout.checkoutPath(name))) continue;
    try {
      row = await deps.db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('file_checkouts')
          .values({
            name,
            created_by: createdBy,
            file_count: request.files.length,
            total_bytes: totalBytes,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await sql`
          insert into file_checkout_files (checkout_id, path, sha256, size)
          select ${inserted.id}::uuid, f.path, f.sha256, f.size
          from unnest(${request.files.map((f) => f.path)}::text[],
                      ${request.files.map((f) => f.sha256)}::text[],
                      ${request.files.map((f) => f.size)}::bigint[]) as f(path, sha256, size)`.execute(
          trx,
        );
        await sql`
          update file_blobs b set last_used_at = now()
          from file_checkout_files f
          where f.checkout_id = ${inserted.id}::uuid and b.sha256 = f.sha256 and b.size = f.size`.execute(
          trx,
        );
        return inserted;
      });
    } catch (error) {
      if (isSqlState(error, SQLSTATE.UNIQUE_VIOLATION)) continue;
      // Garbage collection removed a blob between the check above and the insert.
      if (isSqlState(error, SQLSTATE.FOREIGN_KEY_VIOLATION)) throw missingError(wanted);
      throw error;
    }
  }
  if (!row) {
    throw new FarmError('conflict', `no free checkout name like "${baseName}"; choose another`, {
      details: { reason: 'name-taken' },
    });
  }

  const final = deps.layout.checkoutPath(row.name);
  const building = path.join(deps.layout.checkoutsDir, `.building-${row.id}`);
  let linked = 0;
  try {
    const folders = new Set(request.files.map((file) => path.dirname(file.path)));
    for (const folder of folders) {
      await fs.promises.mkdir(path.join(building, folder), { recursive: true });
    }
    for (const file of request.files) {
      const target = path.join(building, file.path);
      // Defence in depth: the paths were checked above.
      if (!target.startsWith(building + path.sep)) {
        throw new FarmError('internal', `checkout path escaped its folder: ${file.path}`);
      }
      if (await linkOrCopy(deps.layout.blobPath(file.sha256, file.size), target)) linked++;
    }
    await fs.promises.rename(building, final);
  } catch (error) {
    await fs.promises.rm(building, { recursive: true, force: true }).catch(() => undefined);
    await deps.db.deleteFrom('file_checkouts').where('id', '=', row.id).execute();
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw missingError(wanted);
    throw error;
  }
  deps.logger.info('checkout made', {
    checkoutId: row.id,
    name: row.name,
    files: request.files.length,
    linked,
  });
  return toApiCheckout(deps, row, linked);
}

/** One checkout, or `not_found`. */
export async function getCheckout(deps: FileStoreDeps, id: string): Promise<Checkout> {
  const row = await deps.db
    .selectFrom('file_checkouts')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new FarmError('not_found', `checkout ${id} does not exist`);
  return toApiCheckout(deps, row);
}

/**
 * Removes a checkout: its row first (its blobs become collectable once no other checkout uses
 * them), then its folder. Only its own links and copies go; the stored blobs stay until GC.
 */
export async function deleteCheckout(
  deps: FileStoreDeps,
  id: string,
  by: { userId: string; isAdmin: boolean },
): Promise<void> {
  const existing = await deps.db
    .selectFrom('file_checkouts')
    .select(['created_by'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!existing) throw new FarmError('not_found', `checkout ${id} does not exist`);
  if (!by.isAdmin && existing.created_by !== by.userId) {
    throw new FarmError(
      'forbidden',
      'only the user who made a checkout, or an admin, may remove it',
    );
  }
  const row = await deps.db
    .deleteFrom('file_checkouts')
    .where('id', '=', id)
    .returning(['id', 'name'])
    .executeTakeFirst();
  if (!row) throw new FarmError('not_found', `checkout ${id} does not exist`);
  await removeCheckoutFolder(deps, row.name);
}

/** Deletes a checkout's folder; its files are links or copies, never the blobs themselves. */
export async function removeCheckoutFolder(deps: FileStoreDeps, name: string): Promise<void> {
  const folder = deps.layout.checkoutPath(name);
  if (path.dirname(folder) !== deps.layout.checkoutsDir) {
    throw new FarmError('internal', `not a checkout folder: ${folder}`);
  }
  await fs.promises.rm(folder, { recursive: true, force: true });
}
