/** What a command reports about its progress; every field is optional and replaces the last one. */
export interface ProgressUpdate {
  /** Share of this command done, 0 to 1. */
  fraction?: number;
  /** One human line, such as `frame 12 (3 of 10), sample 32/64`. */
  activity?: string;
  /** Steps finished so far (for `blender-render`, frames saved). */
  stepsDone?: number;
}

/** What the task runner gives each command executor. */
export interface CommandContext {
  /** Appends one line to the task log. */
  log(line: string): void;
  progress(update: ProgressUpdate): void;
  /** A new image was written (a rendered frame); the newest becomes the preview. */
  outputProduced(imagePath: string): void;
  /** Aborted when the task must stop; executors then reject with `signal.reason`. */
  signal: AbortSignal;
  /** The platform whose path and command-line rules apply (the worker's own, except in tests). */
  platform: NodeJS.Platform;
  /** Working directory for programs that name none. */
  workDir: string;
  /** Time a stopped program gets between SIGTERM and SIGKILL; 5 s when not given. */
  killGraceMs?: number;
}

/** Runs one command with already validated parameters; rejects when the command fails. */
export type CommandExecutor<P = Record<string, unknown>> = (
  params: P,
  ctx: CommandContext,
) => Promise<void>;
