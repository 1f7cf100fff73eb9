import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import { FarmError, type FileUploadResult } from '@farm/core';
import { blobKey, type FileStoreDeps } from './file-store-deps';

/** One upload request: which blob, where the body starts, and the body. */
export interface UploadInput {
  sha256: string;
  size: number;
  /** The `offset` query parameter. */
  offset?: number;
  /** The `Content-Range` header, if sent. */
  contentRange?: string;
  /** The `Content-Length` header, if sent. */
  contentLength?: number;
  body: Readable | undefined;
}

/** What happened, and the HTTP status to answer with. */
export interface UploadOutcome {
  status: 200 | 201 | 202;
  result: FileUploadResult;
}

/** `bytes START-END/TOTAL` → START and TOTAL. */
function parseContentRange(header: string, size: number): number {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim());
  if (!match) {
    throw new FarmError('bad_request', `Content-Range must look like "bytes 0-99/${size}"`, {
      details: { contentRange: header },
    });
  }
  if (match[3] !== '*' && Number(match[3]) !== size) {
    throw new FarmError(
      'size_mismatch',
      `Content-Range says the file has ${match[3]} bytes, the path says ${size}`,
      { details: { size, contentRange: header } },
    );
  }
  return Number(match[1]);
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch {
    return null;
  }
}

async function hashFile(file: string, hash: Hash): Promise<void> {
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
}

/** The blob is stored when its row exists and its file has the right size. */
async function isStored(deps: FileStoreDeps, sha256: string, size: number): Promise<boolean> {
  const row = await deps.db
    .updateTable('file_blobs')
    .set({ last_used_at: sql<Date>`now()` })
    .where('sha256', '=', sha256)
    .where('size', '=', size)
    .returning('sha256')
    .executeTakeFirst();
  return row !== undefined && (await sizeOf(deps.layout.blobPath(sha256, size))) === size;
}

/**
 * Streams an upload into `<sha256>-<size>.part`, hashing while it writes. A body that ends early
 * leaves the part for a later request to continue at its end (202). When the part reaches `size`
 * its SHA-256 is checked, and the blob is made read-only and moved into place under its row's
 * lock, so garbage collection of the same blob cannot interleave. A body longer than `size` or a
 * wrong checksum drops the part: nothing is stored.
 */
export async function receiveUpload(
  deps: FileStoreDeps,
  input: UploadInput,
): Promise<UploadOutcome> {
  const { sha256, size, body } = input;
  const discardBody = () => body?.resume();
  let offset = input.offset ?? 0;
  if (input.contentRange !== undefined) {
    const start = parseContentRange(input.contentRange, size);
    if (input.offset !== undefined && input.offset !== start) {
      discardBody();
      throw new FarmError('bad_request', 'the offset and the Content-Range disagree', {
        details: { offset: input.offset, contentRange: input.contentRange },
      });
    }
    offset = start;
  }
  const answer = (status: UploadOutcome['status'], received: number): UploadOutcome => ({
    status,
    result: {
      sha256,
      size,
      status: status === 201 ? 'stored' : status === 200 ? 'already-stored' : 'partial',
      receivedBytes: received,
    },
  });

  if (await isStored(deps, sha256, size)) {
    discardBody();
    return answer(200, size);
  }
  if (input.contentLength !== undefined && offset + input.contentLength > size) {
    discardBody();
    throw new FarmError(
      'size_mismatch',
      `the body would end at byte ${offset + input.contentLength}, past the file's size ${size}`,
      { details: { size, offset, contentLength: input.contentLength } },
    );
  }
  const key = blobKey(sha256, size);
  if (deps.uploading.has(key)) {
    discardBody();
    throw new FarmError('conflict', 'this file is being uploaded by another request; try later', {
      details: { reason: 'upload-in-progress' },
    });
  }
  deps.uploading.add(key);
  try {
    const part = deps.layout.partPath(sha256, size);
    await fs.promises.mkdir(path.dirname(part), { recursive: true });
    const have = (await sizeOf(part)) ?? 0;
    // Offset 0 starts over; any other offset must be where the part ends.
    if (offset !== 0 && offset !== have) {
      discardBody();
      throw new FarmError(
        'conflict',
        `the upload of this file has ${have} bytes; continue at offset ${have}, not ${offset}`,
        { details: { reason: 'offset-mismatch', receivedBytes: have } },
      );
    }
    const hash = createHash('sha256');
    if (offset > 0) await hashFile(part, hash);
    let received = offset;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        if (received > size) {
          done(
            new FarmError(
              'size_mismatch',
              `received more than the file's size of ${size} bytes; nothing was stored`,
              { details: { size } },
            ),
          );
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const out = fs.createWriteStream(part, { flags: offset === 0 ? 'w' : 'a' });
    try {
      if (body) await pipeline(body, counter, out);
      else
        await new Promise<void>((resolve, reject) => out.end(() => resolve()).on('error', reject));
    } catch (error) {
      // The stream opens its file asynchronously: removing the part before it has closed could
      // let a late open create it again, and the refused bytes would stay behind.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      if (error instanceof FarmError) {
        await fs.promises.rm(part, { force: true });
        discardBody();
        throw error;
      }
      if (body?.destroyed === true || body?.readableAborted === true) {
        // A client that went away keeps what arrived, to continue later (not a server error).
        throw new FarmError('bad_request', 'the upload was interrupted; continue it later', {
          details: { receivedBytes: (await sizeOf(part)) ?? 0 },
        });
      }
      throw error;
    }
    if (received < size) return answer(202, received);

    const digest = hash.digest('hex');
    if (digest !== sha256) {
      await fs.promises.rm(part, { force: true });
      throw new FarmError(
        'checksum_mismatch',
        `the uploaded bytes have SHA-256 ${digest}, not ${sha256}; nothing was stored`,
        { details: { expected: sha256, actual: digest, size } },
      );
    }
    // Read-only: checkouts are hard links to this very file, and a job must not change a blob.
    await fs.promises.chmod(part, 0o444);
    const blob = deps.layout.blobPath(sha256, size);
    await fs.promises.mkdir(path.dirname(blob), { recursive: true });
    await deps.db.transaction().execute(async (trx) => {
      await sql`
        insert into file_blobs (sha256, size) values (${sha256}, ${size})
        on conflict (sha256, size) do update set last_used_at = now()`.execute(trx);
      await fs.promises.rename(part, blob);
    });
    deps.logger.debug('file stored', { sha256, size });
    return answer(201, size);
  } finally {
    deps.uploading.delete(key);
  }
}
