import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, type CliIo } from '../../src';

/** What a `farm` run printed and returned. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temp folder standing in for the user's config folder (removed by `removeTempDirs`). */
export function makeTempDir(prefix = 'farm-cli-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

const tempDirs: string[] = [];

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs `farm args...` in-process with captured output, an empty environment (plus `env`) and a
 * private config folder, so neither the developer's login nor FARM_* variables leak in.
 */
export async function farm(args: string[], io: Partial<CliIo> = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const env = io.env ?? { XDG_CONFIG_HOME: makeTempDir() };
  const code = await run(['node', 'farm', ...args], {
    isTTY: false,
    stdinIsTTY: false,
    discover: () => Promise.resolve(undefined),
    pollIntervalMs: 200,
    ...io,
    env,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}
