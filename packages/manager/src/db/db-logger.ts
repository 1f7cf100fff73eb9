/** The few log methods the database layer uses; a winston `Logger` fits. */
export interface DbLogger {
  debug(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

const noop = (): void => undefined;

export const SILENT_DB_LOGGER: DbLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** `postgres://user:secret@host/db` without its password, for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** Channel names go into LISTEN as identifiers, so only plain lower-case names are allowed. */
export function assertChannelName(channel: string): void {
  if (!CHANNEL_PATTERN.test(channel)) {
    throw new Error(`invalid notification channel name "${channel}": use [a-z_][a-z0-9_]*`);
  }
}
