import { cp, lstat, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { FarmError } from '@farm/core';
import type { CommandContext, CommandExecutor } from './command-context';
import { resolveInWorkDir } from './command-paths';
import type { MoveDirectoryParameters } from '@farm/core';

const MAX_ASIDE_SUFFIX = 999;

/**
 * `move-directory`: moves `src` to `dest`. An existing `dest` is kept, renamed to
 * `dest-<its mtime YYYY-MM-DD_HHMMSS>` (with `-001`, `-002`... when that is taken too), so a
 * re-render never destroys the previous output. Works across file systems by copying and then
 * deleting.
 */
export const moveDirectory: CommandExecutor<MoveDirectoryParameters> = async (params, ctx) => {
  const src = resolveInWorkDir(ctx, params.src);
  const dest = resolveInWorkDir(ctx, params.dest);
  if (!(await stat(src).catch(() => undefined))) {
    throw new FarmError('not_found', `move-directory: source ${src} does not exist`);
  }
  const fromSrcToDest = path.relative(src, dest);
  if (
    fromSrcToDest === '' ||
    (!fromSrcToDest.startsWith('..') && !path.isAbsolute(fromSrcToDest))
  ) {
    throw new FarmError('bad_request', `move-directory: cannot move ${src} into itself (${dest})`);
  }
  const existing = await lstat(dest).catch(() => undefined);
  if (existing) {
    const aside = await freeAsideName(dest, existing.mtime);
    ctx.log(`move-directory: ${dest} exists, moving it aside to ${aside}`);
    await move(dest, aside, ctx);
  }
  await mkdir(path.dirname(dest), { recursive: true });
  ctx.log(`move-directory: moving ${src} to ${dest}`);
  await move(src, dest, ctx);
};

async function move(from: string, to: string, ctx: CommandContext): Promise<void> {
  try {
    await rename(from, to);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
  }
  ctx.log(
    `move-directory: ${from} and ${to} are on different file systems; copying, then deleting`,
  );
  try {
    await cp(from, to, {
      recursive: true,
      errorOnExist: true,
      force: false,
      preserveTimestamps: true,
      verbatimSymlinks: true,
    });
  } catch (error) {
    // `to` did not exist before, so a partial copy is ours to remove; `from` is untouched.
    await rm(to, { recursive: true, force: true });
    throw error;
  }
  await rm(from, { recursive: true, force: true });
}

/** `dest-YYYY-MM-DD_HHMMSS` from the mtime (local time), or with `-NNN` when that is taken. */
export async function freeAsideName(dest: string, mtime: Date): Promise<string> {
  const base = `${dest}-${formatStamp(mtime)}`;
  for (let n = 0; n <= MAX_ASIDE_SUFFIX; n++) {
    const candidate = n === 0 ? base : `${base}-${String(n).padStart(3, '0')}`;
    if (!(await lstat(candidate).catch(() => undefined))) return candidate;
  }
  throw new FarmError('conflict', `move-directory: no free name to move ${dest} aside`);
}

function formatStamp(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}_` +
    `${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`
  );
}
