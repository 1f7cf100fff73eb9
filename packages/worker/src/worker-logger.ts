/** Where the daemon tells its operator what it does. */
export interface WorkerLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

/** Timestamped lines on stderr (stdout stays free for `--test` tables); debug lines only when asked. */
export function createConsoleLogger(options: { debug?: boolean } = {}): WorkerLogger {
  const line = (level: string, message: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
  };
  return {
    info: (m) => line('info ', m),
    warn: (m) => line('warn ', m),
    error: (m) => line('error', m),
    debug: (m) => {
      if (options.debug) line('debug', m);
    },
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: WorkerLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};
