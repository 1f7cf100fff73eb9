import type { IncomingMessage } from 'node:http';

/** True when the request announces a body (chunked, or a non-zero Content-Length). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (
    req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0)
  );
}

// `application/json`, optionally with `charset=utf-8`: the only form the fast path reads itself.
// Anything else (other charsets, `+json` types, parameters) is left to Express's body parser.
const PLAIN_JSON = /^application\/json *(?:; *charset *= *(?:utf-8|"utf-8") *)?$/i;

/**
 * True when a body can be read by `readJsonBody` exactly as Express's JSON parser would read it:
 * plain `application/json` in UTF-8, not compressed.
 */
export function isPlainJsonBody(req: IncomingMessage): boolean {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  const type = req.headers['content-type'];
  return type !== undefined && PLAIN_JSON.test(type.trim());
}

/**
 * An error shaped like body-parser's (`type`, `limit`), so `toErrorResponse` answers a body the
 * fast path read with the same status and error body as one Express read.
 */
function bodyError(type: string, message: string, limit?: number): Error {
  return Object.assign(new Error(message), { type, ...(limit === undefined ? {} : { limit }) });
}

// JSON's whitespace is space, tab, line feed and carriage return (RFC 8259).
const FIRST_NON_WHITESPACE = /^[ \t\n\r]*([^ \t\n\r]|$)/;

// body-parser's strict mode: an empty body is `{}`, and only objects and arrays are accepted.
function parseStrictJson(text: string): unknown {
  if (text.length === 0) return {};
  const first = FIRST_NON_WHITESPACE.exec(text)?.[1];
  if (first !== '{' && first !== '[') {
    throw bodyError('entity.parse.failed', 'the body is not a JSON object or array');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw bodyError('entity.parse.failed', (error as Error).message);
  }
}

// Reads off what is left of a refused body before answering, as body-parser does, so the
// connection stays usable for the client's next request.
function drain(req: IncomingMessage, then: () => void): void {
  if (req.readableEnded || req.destroyed) {
    then();
    return;
  }
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    then();
  };
  req.once('end', once);
  req.once('close', once);
  req.resume();
}

/**
 * Reads a plain JSON body (see `isPlainJsonBody`) up to `limitBytes`, the way Express's JSON
 * parser (body-parser 2, strict) does: a byte-order mark is dropped, an empty body is `{}`, and a
 * body over the limit, unparsable, or cut off by the client rejects with the error body-parser
 * would have raised.
 */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const detach = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onError);
    };
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      detach();
      chunks.length = 0;
      drain(req, () => reject(error));
    };
    const tooLarge = (): Error =>
      bodyError('entity.too.large', 'request entity too large', limitBytes);
    function onData(chunk: Buffer): void {
      received += chunk.length;
      if (received > limitBytes) fail(tooLarge());
      else chunks.push(chunk);
    }
    function onEnd(): void {
      if (settled) return;
      settled = true;
      detach();
      let text = Buffer.concat(chunks, received).toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      try {
        resolve(parseStrictJson(text));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    function onAborted(): void {
      fail(bodyError('request.aborted', 'request aborted'));
    }
    function onError(error: Error): void {
      fail(error);
    }
    const declared = Number(req.headers['content-length']);
    if (declared > limitBytes) {
      fail(tooLarge());
      return;
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onError);
  });
}
