import { FarmError, validationError } from '@farm/core';
import { blenderRender } from './blender-render';
import type { CommandContext, CommandExecutor } from './command-context';
import { copyFile } from './copy-file';
import { deletePath } from './delete-path';
import { echo } from './echo';
import { exec } from './exec';
import { framesToVideo } from './frames-to-video';
import { makeDirectory } from './make-directory';
import { moveDirectory } from './move-directory';
import { sleep } from './sleep';
import { validateCommand } from '@farm/core';

/** A command as the manager sends it: `{ name, parameters }`. */
export interface CommandToRun {
  name: string;
  parameters: Record<string, unknown>;
}

/** The executors a worker knows, by command name. */
export type CommandRegistry = ReadonlyMap<string, CommandExecutor>;

// Each executor trusts its parameter type because `runCommand` validates before calling it.
const asExecutor = <P>(executor: CommandExecutor<P>): CommandExecutor =>
  executor as unknown as CommandExecutor;

/** Every built-in command executor, keyed by command name. */
export function createCommandRegistry(): CommandRegistry {
  return new Map<string, CommandExecutor>([
    ['blender-render', asExecutor(blenderRender)],
    ['frames-to-video', asExecutor(framesToVideo)],
    ['exec', asExecutor(exec)],
    ['make-directory', asExecutor(makeDirectory)],
    ['move-directory', asExecutor(moveDirectory)],
    ['copy-file', asExecutor(copyFile)],
    ['delete-path', asExecutor(deletePath)],
    ['echo', asExecutor(echo)],
    ['sleep', asExecutor(sleep)],
  ]);
}

const defaultRegistry = createCommandRegistry();

/**
 * Validates a command's parameters, then runs it. Rejects with FarmError `validation_failed`
 * listing every problem before anything runs; with the executor's error when the command fails;
 * with `ctx.signal.reason` when the task was stopped.
 */
export async function runCommand(
  command: CommandToRun,
  ctx: CommandContext,
  registry: CommandRegistry = defaultRegistry,
): Promise<void> {
  const issues = validateCommand(command);
  if (issues.length > 0) {
    const list = issues.map((i) => `${i.path} ${i.message}`).join('; ');
    throw validationError(`command ${JSON.stringify(command.name)} cannot run: ${list}`, issues);
  }
  const executor = registry.get(command.name);
  if (executor === undefined) {
    throw new FarmError(
      'validation_failed',
      `this worker has no command ${JSON.stringify(command.name)}`,
    );
  }
  ctx.signal.throwIfAborted();
  await executor(command.parameters, ctx);
}
