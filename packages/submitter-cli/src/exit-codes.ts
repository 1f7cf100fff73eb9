import { isFarmError } from '@farm/core';

/** The exit codes of `farm`; scripts branch on them, so they never change meaning. */
export const EXIT_CODES = {
  ok: 0,
  error: 1,
  invalidInput: 2,
  jobFailed: 3,
  jobCanceled: 4,
  unreachable: 5,
  notAuthenticated: 6,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The exit code for an error thrown by a command or the API client. */
export function exitCodeForError(error: unknown): ExitCode {
  if (isCliExit(error)) return error.exitCode;
  return isFarmError(error) ? exitCodeForErrorCode(error.code) : EXIT_CODES.error;
}

/** The exit code for one of the API's error codes (`unavailable` is 5, `forbidden` 6, ...). */
export function exitCodeForErrorCode(code: string | undefined): ExitCode {
  switch (code) {
    case 'unavailable':
      return EXIT_CODES.unreachable;
    case 'unauthenticated':
    case 'forbidden':
      return EXIT_CODES.notAuthenticated;
    case 'bad_request':
    case 'validation_failed':
    case 'compile_failed':
    case 'payload_too_large':
    case 'unsupported_media_type':
      return EXIT_CODES.invalidInput;
    default:
      return EXIT_CODES.error;
  }
}

const CLI_EXIT_BRAND = Symbol.for('@farm/submitter-cli/CliExit');

/**
 * Ends the command with an exit code. `silent` when the command already told the user why (a
 * watched job that failed), otherwise the message is printed as `farm: <message>`.
 */
export class CliExit extends Error {
  readonly exitCode: ExitCode;
  readonly silent: boolean;
  readonly details?: unknown;

  constructor(
    exitCode: ExitCode,
    message: string,
    options: { silent?: boolean; details?: unknown } = {},
  ) {
    super(message);
    this.name = 'CliExit';
    this.exitCode = exitCode;
    this.silent = options.silent ?? false;
    this.details = options.details;
    Object.defineProperty(this, CLI_EXIT_BRAND, { value: true });
  }
}

/** True for a CliExit, whichever jest realm made it. */
export function isCliExit(value: unknown): value is CliExit {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[CLI_EXIT_BRAND] === true
  );
}

/** A usage or input mistake (exit code 2). */
export function invalidInput(message: string, details?: unknown): CliExit {
  return new CliExit(EXIT_CODES.invalidInput, message, { details });
}
