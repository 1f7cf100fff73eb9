import { createLogger as createWinstonLogger, format, transports, type Logger } from 'winston';
import type { LogFormat, LogLevel } from '../config/resolve-config';
import { redact } from './redact';

export type { Logger } from 'winston';

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** @default 'info' */
  level?: LogLevel;
  /** `auto` is pretty on a terminal, JSON lines otherwise. @default 'auto' */
  format?: LogFormat;
  /** Where lines go. @default process.stdout */
  stream?: NodeJS.WritableStream;
}

const pretty = format.printf((info) => {
  const { level, message, timestamp, ...meta } = info as Record<string, unknown>;
  const rest = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
  return `${String(timestamp)} ${String(level)} ${String(message)}${rest}`;
});

/**
 * The manager's logger: JSON lines (one object per line, for log collectors) or, on a terminal,
 * colourised text. Secrets in messages and metadata are masked (see `redact`).
 *
 * @example
 * const log = createLogger({ level: config.logLevel, format: config.logFormat });
 * log.info('listening', { port: 8080 });
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stdout;
  const isTty = (stream as { isTTY?: boolean }).isTTY === true;
  const usePretty = options.format === 'pretty' || (options.format !== 'json' && isTty);
  return createWinstonLogger({
    level: options.level ?? 'info',
    format: format.combine(
      format.errors({ stack: true }),
      redact(),
      format.timestamp(),
      usePretty ? format.combine(format.colorize(), pretty) : format.json(),
    ),
    transports: [new transports.Stream({ stream })],
  });
}
