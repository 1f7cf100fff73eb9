import os from 'node:os';
import { promptHidden } from '@farm/core';
import { discoverManagerUrl } from './discover-manager-url';

/** The outside world of the CLI; tests pass their own to capture output and set the scene. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The environment (`FARM_URL`, `FARM_TOKEN`, `NO_COLOR`, `XDG_CONFIG_HOME`, ...). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal: colours and redrawn progress bars only then. */
  isTTY?: boolean;
  /** Whether stdin is a terminal, so the CLI may ask for a token. */
  stdinIsTTY?: boolean;
  /** Asks a question without echoing the answer (for the token). */
  prompt?: (question: string) => Promise<string>;
  /** The fetch the API client uses. */
  fetch?: (input: Request) => Promise<Response>;
  /** Finds a manager on the LAN; resolves to its URL or undefined. */
  discover?: (timeoutMs: number) => Promise<string | undefined>;
  /** `process.platform` of this machine. */
  platform?: NodeJS.Platform;
  /** The home folder, for `~/.config/farm`. */
  homedir?: string;
  /** How often `watch` and `logs -f` poll when the websocket is not available. 2 s by default. */
  pollIntervalMs?: number;
  /** Milliseconds since the epoch (for ETAs). */
  now?: () => number;
}

/** An io with every field filled in. */
export type ResolvedCliIo = Required<CliIo>;

/** The real terminal, environment and network. */
export function createDefaultIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    isTTY: process.stdout.isTTY === true,
    stdinIsTTY: process.stdin.isTTY === true,
  };
}

/** Fills the fields a caller left out with the real ones. */
export function resolveIo(io: CliIo): ResolvedCliIo {
  return {
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env ?? process.env,
    isTTY: io.isTTY ?? false,
    stdinIsTTY: io.stdinIsTTY ?? false,
    prompt: io.prompt ?? promptHidden,
    fetch: io.fetch ?? ((input) => fetch(input)),
    discover: io.discover ?? discoverManagerUrl,
    platform: io.platform ?? process.platform,
    homedir: io.homedir ?? os.homedir(),
    pollIntervalMs: io.pollIntervalMs ?? 2000,
    now: io.now ?? Date.now,
  };
}
