import path from 'node:path';
import type { CommandExecutor } from './command-context';
import { runCommandProcess } from './run-command-process';
import type { ExecParameters } from '@farm/core';

/**
 * `exec`: runs a program directly, never through a shell, so arguments reach it exactly as given.
 * `env` is added to the worker's environment; a relative `cwd` is taken from the work folder.
 */
export const exec: CommandExecutor<ExecParameters> = async (params, ctx) => {
  await runCommandProcess(ctx, {
    exe: params.exe,
    args: params.args ?? [],
    env: params.env,
    cwd: params.cwd === undefined ? undefined : path.resolve(ctx.workDir, params.cwd),
  });
};
