import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { respond, type OperationResponse } from './define-operation';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Bodies below this size go out as they are: compressing them saves less than it costs. */
export const COMPRESS_MIN_BYTES = 64 * 1024;

type Encoding = 'br' | 'gzip';

/** The encoding to use for a request's `Accept-Encoding`, brotli first; null for none. */
export function pickEncoding(acceptEncoding: string | string[] | undefined): Encoding | null {
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : (acceptEncoding ?? '');
  const accepted = new Set<string>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (name && !(q && Number(q.slice(2)) === 0)) accepted.add(name);
  }
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip')) return 'gzip';
  return null;
}

/**
 * A 200 answer with `body`, compressed when the client accepts it and the body is large (a
 * 100,000-task list is about 12 MB of JSON and 2-3 MB compressed). The fastest levels are used:
 * the point is to save time on the wire, and level 1 already takes most of the gain. Compression
 * runs on libuv's thread pool, so the event loop stays free meanwhile.
 */
export async function compressedResponse(
  body: string,
  contentType: string,
  acceptEncoding: string | string[] | undefined,
): Promise<OperationResponse> {
  const headers = { 'Content-Type': contentType, Vary: 'Accept-Encoding' };
  const encoding =
    Buffer.byteLength(body) >= COMPRESS_MIN_BYTES ? pickEncoding(acceptEncoding) : null;
  if (encoding === null) return respond(200, body, headers);
  const raw = Buffer.from(body);
  const packed =
    encoding === 'br'
      ? await brotli(raw, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: 1,
            [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
          },
        })
      : await gzipAsync(raw, { level: 1 });
  return respond(200, packed, { ...headers, 'Content-Encoding': encoding });
}
