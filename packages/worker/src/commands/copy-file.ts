import { constants } from 'node:fs';
import { copyFile as fsCopyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { FarmError } from '@farm/core';
import type { CommandExecutor } from './command-context';
import { requireAbsolute } from './command-paths';
import type { CopyFileParameters } from '@farm/core';

/**
 * `copy-file`: copies one file between absolute paths, creating the destination's folders. The
 * destination must not exist: a farm task never silently overwrites a file.
 */
export const copyFile: CommandExecutor<CopyFileParameters> = async (params, ctx) => {
  const src = requireAbsolute(ctx, 'copy-file', 'src', params.src);
  const dest = requireAbsolute(ctx, 'copy-file', 'dest', params.dest);
  const info = await stat(src).catch(() => undefined);
  if (info === undefined) throw new FarmError('not_found', `copy-file: ${src} does not exist`);
  if (!info.isFile()) throw new FarmError('bad_request', `copy-file: ${src} is not a file`);
  await mkdir(path.dirname(dest), { recursive: true });
  ctx.log(`copy-file: copying ${src} to ${dest}`);
  try {
    await fsCopyFile(src, dest, constants.COPYFILE_EXCL);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new FarmError('conflict', `copy-file: ${dest} already exists`, { cause: error });
    }
    throw error;
  }
  ctx.log(`copy-file: copied ${info.size} bytes`);
};
