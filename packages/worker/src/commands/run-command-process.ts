import { FarmError } from '@farm/core';
import { quoteCommandLine, runProcess } from '../process';
import type { CommandContext } from './command-context';

export interface CommandProcess {
  exe: string;
  args: readonly string[];
  cwd?: string;
  env?: Readonly<Record<string, string>>;
  /** The variable that usually names the program, for the "not found" message. */
  exeVariable?: string;
  /** Sees every output line after it has been logged. */
  onLine?: (line: string) => void;
}

/**
 * Runs a program for a command: logs the command line (quoted for copy and paste), streams its
 * output into the task log, and rejects unless it exits with code 0. When the task is stopped it
 * rejects with the abort reason once the process tree is gone.
 */
export async function runCommandProcess(ctx: CommandContext, proc: CommandProcess): Promise<void> {
  const cwd = proc.cwd ?? ctx.workDir;
  ctx.log(`going to run: ${quoteCommandLine(proc.exe, proc.args, ctx.platform)}`);
  const result = await runProcess({
    exe: proc.exe,
    args: proc.args,
    cwd,
    env: proc.env,
    signal: ctx.signal,
    killGraceMs: ctx.killGraceMs,
    exeVariable: proc.exeVariable,
    onLine(line) {
      ctx.log(line);
      proc.onLine?.(line);
    },
  });
  ctx.signal.throwIfAborted();
  if (result.exitCode !== 0) {
    const how =
      result.exitCode === null
        ? `was killed by ${result.signal}`
        : `exited with code ${result.exitCode}`;
    throw new FarmError('internal', `${proc.exe} ${how}`, {
      details: { exitCode: result.exitCode, signal: result.signal },
    });
  }
}
