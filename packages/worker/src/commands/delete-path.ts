import { lstat, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FarmError } from '@farm/core';
import type { CommandExecutor } from './command-context';
import { requireAbsolute } from './command-paths';
import type { DeletePathParameters } from '@farm/core';

/**
 * `delete-path`: deletes a file or a folder with everything in it. Refuses relative paths, a
 * file-system root, and the home folder or any folder containing it, since one wrong variable
 * would otherwise wipe a machine. A path that does not exist is already deleted: success.
 */
export const deletePath: CommandExecutor<DeletePathParameters> = async (params, ctx) => {
  const target = requireAbsolute(ctx, 'delete-path', 'path', params.path);
  refuseDangerous(target);
  const info = await lstat(target).catch(() => undefined);
  if (info === undefined) {
    ctx.log(`delete-path: ${target} does not exist, nothing to delete`);
    return;
  }
  ctx.log(`delete-path: deleting ${target}${info.isDirectory() ? ' and everything in it' : ''}`);
  await rm(target, { recursive: true, force: true });
  ctx.log(`delete-path: deleted ${target}`);
};

function refuseDangerous(target: string): void {
  const refuse = (why: string): never => {
    throw new FarmError('forbidden', `delete-path: refusing to delete ${target}: ${why}`);
  };
  if (path.parse(target).root === target) refuse('it is the root of a file system');
  const home = path.resolve(os.homedir());
  const relative = path.relative(target, home);
  if (relative === '') refuse('it is the home folder');
  if (!relative.startsWith('..') && !path.isAbsolute(relative))
    refuse('it contains the home folder');
}
