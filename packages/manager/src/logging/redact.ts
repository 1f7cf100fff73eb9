import { format } from 'winston';

/** Metadata keys whose values never reach a log: tokens, passwords, secrets, credentials. */
export const SECRET_KEY_PATTERN =
  /pass(word|wd|phrase)?$|secret|token|authori[sz]ation|cookie|api[-_]?key|credential|private[-_]?key|signature/i;

export const REDACTED = '[redacted]';

const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@\s]*@/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
// Our own credentials are recognisable by their prefix (API, worker and session tokens) or shape
// (JWT access tokens), wherever in a text they turn up.
const FARM_TOKEN = /\bfarm_[uws]_[A-Za-z0-9_-]+/g;
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;

/** Masks the password of URLs (`postgres://user:***@host`) and bearer credentials in a text. */
export function redactText(text: string): string {
  return text
    .replace(URL_PASSWORD, '$1:***@')
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(FARM_TOKEN, REDACTED)
    .replace(JWT, REDACTED);
}

/**
 * A copy of `value` with every secret-looking key masked at any depth, credentials inside
 * strings masked, and Errors turned into plain objects. The input is never modified.
 */
export function redactValue(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, seen));
  const source: Record<string, unknown> =
    value instanceof Error
      ? { ...(value as object), name: value.name, message: value.message, stack: value.stack }
      : (value as Record<string, unknown>);
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(source)) {
    copy[key] = SECRET_KEY_PATTERN.test(key) && child != null ? REDACTED : redactValue(child, seen);
  }
  return copy;
}

/** A winston format that applies `redactValue` to the message and every metadata key. */
export const redact = format((info) => {
  const record = info as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key === 'level') continue;
    record[key] =
      SECRET_KEY_PATTERN.test(key) && record[key] != null ? REDACTED : redactValue(record[key]);
  }
  return info;
});
