import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import {
  COMPRESS_MIN_BYTES,
  compressedResponse,
  pickEncoding,
} from '../../src/http/compressed-response';

// A body like the compact task list: large and repetitive.
const bigBody = JSON.stringify({
  statuses: Array.from({ length: 20_000 }, (_, i) => (i % 7 === 0 ? 'failed' : 'queued')),
});

describe('compressed answers', () => {
  it('picks brotli, then gzip, and honours q=0', () => {
    expect(pickEncoding('gzip, deflate, br')).toBe('br');
    expect(pickEncoding('gzip, deflate')).toBe('gzip');
    expect(pickEncoding(['deflate', 'GZIP;q=0.5'])).toBe('gzip');
    expect(pickEncoding('br;q=0, gzip')).toBe('gzip');
    expect(pickEncoding('identity')).toBeNull();
    expect(pickEncoding(undefined)).toBeNull();
  });

  it('compresses a large body when accepted, and it decodes to the same text', async () => {
    expect(Buffer.byteLength(bigBody)).toBeGreaterThan(COMPRESS_MIN_BYTES);
    const gz = await compressedResponse(bigBody, 'application/json', 'gzip, deflate');
    expect(gz.headers).toMatchObject({ 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    const packed = gz.body as Buffer;
    expect(packed.length).toBeLessThan(Buffer.byteLength(bigBody) / 5);
    expect(gunzipSync(packed).toString()).toBe(bigBody);

    const br = await compressedResponse(bigBody, 'application/json', 'br');
    expect(br.headers?.['Content-Encoding']).toBe('br');
    expect(brotliDecompressSync(br.body as Buffer).toString()).toBe(bigBody);
  });

  it('sends small bodies and clients that accept nothing the text as it is', async () => {
    const small = await compressedResponse('{"ids":[]}', 'application/json', 'gzip');
    expect(small.body).toBe('{"ids":[]}');
    expect(small.headers?.['Content-Encoding']).toBeUndefined();
    const plain = await compressedResponse(bigBody, 'application/json', undefined);
    expect(plain.body).toBe(bigBody);
    expect(plain.headers).toEqual({ 'Content-Type': 'application/json', Vary: 'Accept-Encoding' });
  });
});
