import path from 'node:path';
import { FarmError } from '@farm/core';
import type { CommandContext } from './command-context';

/** The path rules of the context's platform (only tests make it differ from the worker's own). */
export function platformPath(ctx: CommandContext): path.PlatformPath {
  return ctx.platform === 'win32' ? path.win32 : path.posix;
}

/** A path from the parameters made absolute against the work folder. */
export function resolveInWorkDir(ctx: CommandContext, p: string): string {
  return path.resolve(ctx.workDir, p);
}

/** Refuses a relative path where a command needs an absolute one. */
export function requireAbsolute(
  ctx: CommandContext,
  command: string,
  key: string,
  p: string,
): string {
  if (!platformPath(ctx).isAbsolute(p)) {
    throw new FarmError(
      'validation_failed',
      `${command}: ${key} must be an absolute path, got ${p}`,
      {
        details: { issues: [{ path: `parameters.${key}`, message: 'must be an absolute path' }] },
      },
    );
  }
  return path.resolve(p);
}
