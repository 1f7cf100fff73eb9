import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedCliIo } from './cli-io';

/** What `farm login` keeps: the manager and the user's API token. */
export interface StoredLogin {
  url: string;
  token: string;
}

/**
 * Where the login is kept: `%APPDATA%\farm\config.json` on Windows, else
 * `$XDG_CONFIG_HOME/farm/config.json`, falling back to `~/.config/farm/config.json`.
 */
export function configFilePath(io: Pick<ResolvedCliIo, 'env' | 'platform' | 'homedir'>): string {
  const { env, platform, homedir } = io;
  if (platform === 'win32') {
    const base = env.APPDATA || path.join(homedir, 'AppData', 'Roaming');
    return path.win32.join(base, 'farm', 'config.json');
  }
  const base = env.XDG_CONFIG_HOME || path.join(homedir, '.config');
  return path.join(base, 'farm', 'config.json');
}

/** The stored login, or undefined when there is none (or it cannot be read). */
export function readStoredLogin(file: string): StoredLogin | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<StoredLogin>;
    if (typeof value.url === 'string' && typeof value.token === 'string') {
      return { url: value.url, token: value.token };
    }
  } catch {
    // A damaged file counts as no login; `farm login` overwrites it.
  }
  return undefined;
}

/** Stores the login readable by its owner only (0600, in a 0700 folder). */
export function writeStoredLogin(file: string, login: StoredLogin): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written beside and renamed, so a crash never leaves half a file; the temp file is 0600 from
  // its creation, so the token is never readable by others, not even for a moment.
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
}

/** Forgets the login; true when there was one. */
export function removeStoredLogin(file: string): boolean {
  try {
    fs.unlinkSync(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
