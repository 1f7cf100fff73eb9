import fs from 'node:fs';
import {
  FarmError,
  isFarmError,
  type Checkout,
  type FarmClient,
  type FileRef,
  type MissingFile,
} from '@farm/core';
import { unwrapCall } from '../context';
import { hashFolder, mapLimit, type LocalFile } from './hash-folder';

/** How to reach the manager for the uploads themselves (streamed, outside the JSON client). */
export interface UploadConnection {
  url: string;
  token: string;
  fetch: (input: Request) => Promise<Response>;
}

export interface UploadFolderOptions {
  /** The checkout's name; the manager adds `-2`, `-3`, ... when it is taken. */
  name?: string;
  /** Files uploaded at once. @default 4 */
  concurrency?: number;
  /** Tries per file before giving up (each continues where the last one stopped). @default 3 */
  attempts?: number;
  /** Progress notes (stderr). */
  note?: (text: string) => void;
}

/** What an upload did. */
export interface UploadFolderResult {
  checkout: Checkout;
  files: number;
  /** Files the store lacked, and so were sent. */
  uploadedFiles: number;
  /** Bytes sent (less than the files' sizes when an earlier upload was resumed). */
  uploadedBytes: number;
}

const QUERY_BATCH = 5000;

function keyOf(file: FileRef): string {
  return `${file.sha256}-${file.size}`;
}

async function findMissing(client: FarmClient, files: readonly FileRef[]): Promise<MissingFile[]> {
  const missing: MissingFile[] = [];
  for (let i = 0; i < files.length; i += QUERY_BATCH) {
    const answer = await unwrapCall(
      client.POST('/api/v1/files/missing', {
        body: {
          files: files.slice(i, i + QUERY_BATCH).map((f) => ({ sha256: f.sha256, size: f.size })),
        },
      }),
    );
    missing.push(...answer.missing);
  }
  return missing;
}

async function errorOf(response: Response): Promise<FarmError> {
  const body = (await response.json().catch(() => ({}))) as {
    code?: string;
    message?: string;
    details?: unknown;
  };
  return new FarmError(
    (body.code ?? (response.status >= 500 ? 'internal' : 'bad_request')) as FarmError['code'],
    body.message ?? `the manager answered HTTP ${response.status}`,
    { details: body.details },
  );
}

/**
 * Sends one file from `offset` on. Resolves to the bytes sent; on a dropped connection or a
 * `conflict` it asks the store where the upload stands and continues from there.
 */
async function uploadFile(
  client: FarmClient,
  connection: UploadConnection,
  file: LocalFile,
  offset: number,
  attempts: number,
): Promise<number> {
  let sent = 0;
  let from = offset;
  for (let attempt = 1; ; attempt++) {
    const blob = (await fs.openAsBlob(file.absolute)).slice(from);
    const request = new Request(
      `${connection.url}/api/v1/files/${file.sha256}/${file.size}?offset=${from}`,
      {
        method: 'PUT',
        headers: {
          Authorization: `Bearer ${connection.token}`,
          'Content-Type': 'application/octet-stream',
        },
        body: blob,
      },
    );
    try {
      const response = await connection.fetch(request);
      if (response.ok) {
        const result = (await response.json()) as { status: string; receivedBytes: number };
        sent += blob.size;
        if (result.status !== 'partial') return sent;
        if (attempt >= attempts) {
          throw new FarmError('internal', `the manager kept only part of ${file.path}`);
        }
        from = result.receivedBytes;
        continue;
      }
      const error = await errorOf(response);
      // Changed on disk while uploading, or another client is sending the same file.
      if (error.code !== 'conflict' || attempt >= attempts) throw error;
    } catch (error) {
      if (isFarmError(error) && error.code !== 'conflict') throw error;
      if (attempt >= attempts) throw error;
    }
    const [state] = await findMissing(client, [file]);
    if (!state) return sent;
    from = state.receivedBytes;
  }
}

/**
 * Uploads a folder to the farm's file store and checks it out: hashes every file, asks which the
 * store lacks, uploads only those (`concurrency` at a time, continuing interrupted uploads where
 * they stopped), and asks for a checkout of the whole folder.
 */
export async function uploadFolder(
  client: FarmClient,
  connection: UploadConnection,
  folder: string,
  options: UploadFolderOptions = {},
): Promise<UploadFolderResult> {
  const note = options.note ?? (() => undefined);
  const concurrency = options.concurrency ?? 4;
  const attempts = options.attempts ?? 3;
  const files = await hashFolder(folder, concurrency);
  if (files.length === 0) {
    throw new FarmError('bad_request', `${folder} has no files to upload`);
  }
  const byKey = new Map(files.map((file) => [keyOf(file), file]));
  let uploadedFiles = 0;
  let uploadedBytes = 0;

  const send = async (missing: MissingFile[]) => {
    const totalBytes = missing.reduce((sum, m) => sum + m.size - m.receivedBytes, 0);
    note(
      `${files.length} files, ${missing.length} to upload (${totalBytes} bytes)` +
        (missing.some((m) => m.receivedBytes > 0) ? ', resuming interrupted uploads' : ''),
    );
    await mapLimit(missing, concurrency, async (m) => {
      const file = byKey.get(keyOf(m))!;
      const sent = await uploadFile(client, connection, file, m.receivedBytes, attempts);
      uploadedBytes += sent;
      uploadedFiles++;
    });
  };

  await send(await findMissing(client, [...byKey.values()]));
  const body = {
    ...(options.name ? { name: options.name } : {}),
    files: files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })),
  };
  let checkout: Checkout;
  try {
    checkout = await unwrapCall(client.POST('/api/v1/files/checkouts', { body }));
  } catch (error) {
    // Garbage collection can take a file between the question and the checkout: send it again.
    const details = isFarmError(error)
      ? (error.details as { reason?: string } | undefined)
      : undefined;
    if (details?.reason !== 'files-missing') throw error;
    await send(await findMissing(client, [...byKey.values()]));
    checkout = await unwrapCall(client.POST('/api/v1/files/checkouts', { body }));
  }
  return { checkout, files: files.length, uploadedFiles, uploadedBytes };
}
