import type { Command } from 'commander';
import {
  createFarmClient,
  FarmError,
  ERROR_CODES,
  type ErrorCode,
  type FarmClient,
} from '@farm/core';
import type { ResolvedCliIo } from './cli-io';
import { configFilePath, readStoredLogin } from './config-store';
import { CliExit, EXIT_CODES } from './exit-codes';
import { createColors, shouldUseColor, type Colors } from './output/colors';

/** The options every command accepts (set before or after the command name). */
export interface GlobalOptions {
  url?: string;
  token?: string;
  verbose?: boolean;
}

/** Where the manager is and who the user is, with where each came from. */
export interface Connection {
  url: string;
  token: string | undefined;
  urlSource: 'option' | 'environment' | 'login';
}

/** What every command gets: the io, colours, and the way to the manager. */
export interface CliContext {
  io: ResolvedCliIo;
  colors: Colors;
  /** `--verbose` was given (set before the command's action runs). */
  verbose: boolean;
  /** Prints a note on stderr only with `--verbose`. */
  debug(text: string): void;
  /** The path of the stored login. */
  configFile: string;
  /** Prints a line (or lines) on stdout. */
  print(text: string): void;
  /** Prints a value as indented JSON on stdout. */
  printJson(value: unknown): void;
  /** Prints a note on stderr (progress, warnings), never mixed into stdout. */
  note(text: string): void;
  /** The manager and token from `--url`/`--token`, `FARM_URL`/`FARM_TOKEN`, or `farm login`. */
  connection(command: Command): Connection;
  /** A client for the connection; refuses without a token. */
  client(command: Command): FarmClient;
}

/** Builds the context of one `farm` run. */
export function createContext(io: ResolvedCliIo): CliContext {
  const colors = createColors(shouldUseColor(io.isTTY, io.env));
  const configFile = configFilePath(io);
  const context: CliContext = {
    io,
    colors,
    configFile,
    verbose: false,
    debug: (text) => {
      if (context.verbose) context.note(text);
    },
    print: (text) => io.stdout(text.endsWith('\n') ? text : `${text}\n`),
    printJson: (value) => io.stdout(`${JSON.stringify(value, null, 2)}\n`),
    note: (text) => io.stderr(text.endsWith('\n') ? text : `${text}\n`),
    connection(command) {
      const options = command.optsWithGlobals<GlobalOptions>();
      const stored = readStoredLogin(configFile);
      const envUrl = io.env.FARM_URL || undefined;
      const url = options.url ?? envUrl ?? stored?.url;
      if (!url) {
        throw new CliExit(
          EXIT_CODES.notAuthenticated,
          'no manager to talk to: run "farm login URL", or set FARM_URL or --url',
        );
      }
      const urlSource = options.url ? 'option' : envUrl ? 'environment' : 'login';
      const token = options.token ?? (io.env.FARM_TOKEN || undefined) ?? stored?.token;
      return { url: normaliseUrl(url), token, urlSource };
    },
    client(command) {
      const { url, token } = context.connection(command);
      if (!token) {
        throw new CliExit(
          EXIT_CODES.notAuthenticated,
          `not logged in to ${url}: run "farm login", or set FARM_TOKEN or --token`,
        );
      }
      return createFarmClient({ url, token, fetch: io.fetch });
    },
  };
  return context;
}

/** Accepts `host:8080` and trailing slashes; refuses what is not an http(s) URL. */
export function normaliseUrl(input: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `http://${input}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new CliExit(EXIT_CODES.invalidInput, `"${input}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliExit(EXIT_CODES.invalidInput, `"${input}" is not an http or https URL`);
  }
  return withScheme.replace(/\/+$/, '');
}

const KNOWN_CODES = new Set<string>(ERROR_CODES);

/**
 * Unwraps a raw openapi-fetch call (for endpoints without a convenience method): the data, or a
 * FarmError with the manager's code.
 */
export async function unwrapCall<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const body = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
    details?: unknown;
  };
  if (typeof body.code === 'string' && KNOWN_CODES.has(body.code)) {
    const message = typeof body.message === 'string' ? body.message : response.statusText;
    throw new FarmError(body.code as ErrorCode, message, { details: body.details });
  }
  const code: ErrorCode =
    response.status === 401
      ? 'unauthenticated'
      : response.status === 403
        ? 'forbidden'
        : response.status === 404
          ? 'not_found'
          : response.status >= 500
            ? 'internal'
            : 'bad_request';
  throw new FarmError(code, `the manager answered HTTP ${response.status} ${response.statusText}`);
}
