import type { RawData } from 'ws';

/** A websocket message as text. `ws` hands over a Buffer by default; the other forms are rare. */
export function readText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
