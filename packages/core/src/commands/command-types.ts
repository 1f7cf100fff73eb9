/** One step of a task: the worker runs it with its executor of the same name. */
export interface Command {
  name: string;
  parameters: Record<string, unknown>;
  /**
   * How many progress steps the command will report (Flamenco 3.9's third argument of
   * `author.Command`); for `blender-render`, the number of frames of its chunk.
   */
  steps?: number;
}

/** Parameters of `blender-render`: runs `{exe} {exeArgs} {argsBefore} {blendfile} {args}`. */
export interface BlenderRenderParameters {
  exe: string;
  exeArgs?: string;
  argsBefore?: string[];
  blendfile: string;
  args?: string[];
  /** Folder watched for previews; the folder of `--render-output` when not given. */
  outputDir?: string;
}

/** Parameters of `frames-to-video`: runs `{exe} {exeArgs} {argsBefore} {input} {args} -r {fps} {outputFile}`. */
export interface FramesToVideoParameters {
  exe: string;
  exeArgs?: string;
  fps: number;
  inputGlob: string;
  outputFile: string;
  argsBefore?: string[];
  args?: string[];
}

/** Parameters of `exec`: runs `exe` directly (never through a shell) with `args`. */
export interface ExecParameters {
  exe: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Folder the program writes images to; its newest image becomes the task's preview. */
  outputDir?: string;
}

export interface MakeDirectoryParameters {
  path: string;
}

export interface MoveDirectoryParameters {
  src: string;
  dest: string;
}

export interface CopyFileParameters {
  src: string;
  dest: string;
}

export interface DeletePathParameters {
  path: string;
}

export interface EchoParameters {
  message: string;
}

export interface SleepParameters {
  duration_in_seconds: number;
}

/** The parameter type of each command the worker implements. */
export interface CommandParametersByName {
  'blender-render': BlenderRenderParameters;
  'frames-to-video': FramesToVideoParameters;
  exec: ExecParameters;
  'make-directory': MakeDirectoryParameters;
  'move-directory': MoveDirectoryParameters;
  'copy-file': CopyFileParameters;
  'delete-path': DeletePathParameters;
  echo: EchoParameters;
  sleep: SleepParameters;
}

export type CommandName = keyof CommandParametersByName;

/** A command whose parameters have the type its name implies. */
export type TypedCommand<N extends CommandName = CommandName> = {
  [K in N]: { name: K; parameters: CommandParametersByName[K]; steps?: number };
}[N];
