import { mkdir } from 'node:fs/promises';
import type { CommandExecutor } from './command-context';
import { resolveInWorkDir } from './command-paths';
import type { MakeDirectoryParameters } from '@farm/core';

/** `make-directory`: creates a directory and its parents; one that exists already is fine. */
export const makeDirectory: CommandExecutor<MakeDirectoryParameters> = async (params, ctx) => {
  const dir = resolveInWorkDir(ctx, params.path);
  const created = await mkdir(dir, { recursive: true });
  ctx.log(
    created === undefined
      ? `make-directory: ${dir} already exists`
      : `make-directory: created ${dir}`,
  );
};
