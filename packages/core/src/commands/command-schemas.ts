import type { CommandName } from './command-types';

/** Every command a worker implements, in a stable order. */
export const COMMAND_NAMES = [
  'blender-render',
  'frames-to-video',
  'exec',
  'make-directory',
  'move-directory',
  'copy-file',
  'delete-path',
  'echo',
  'sleep',
] as const satisfies readonly CommandName[];

/** Task types the bundled job types and the stock worker use; job types may invent others. */
export const KNOWN_TASK_TYPES = ['blender', 'ffmpeg', 'file-management', 'misc'] as const;
export type KnownTaskType = (typeof KNOWN_TASK_TYPES)[number];

/** A JSON Schema (draft 2020-12) object; kept loose so it can be embedded in other documents. */
export type CommandJsonSchema = Readonly<Record<string, unknown>>;

// An empty path or program name is always a bug in the job type, so strings that name one must
// not be empty.
const nonEmpty = (description: string): CommandJsonSchema => ({
  type: 'string',
  minLength: 1,
  description,
});
const stringList = (description: string): CommandJsonSchema => ({
  type: 'array',
  items: { type: 'string' },
  description,
});

const object = (
  description: string,
  properties: Record<string, CommandJsonSchema>,
  required: string[],
): CommandJsonSchema => ({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  description,
  properties,
  required,
  additionalProperties: false,
});

/** The JSON Schema of each command's `parameters`, keyed by command name. */
export const COMMAND_SCHEMAS: Readonly<Record<CommandName, CommandJsonSchema>> = {
  'blender-render': object(
    'Render with Blender: runs `{exe} {exeArgs} {argsBefore} {blendfile} {args}`; `Saved:` lines become previews.',
    {
      exe: nonEmpty('Blender executable, usually the variable `{blender}`.'),
      exeArgs: {
        type: 'string',
        description:
          'Extra arguments as one string, usually `{blenderArgs}`; split like a shell would.',
      },
      argsBefore: stringList('Arguments placed before the blend file.'),
      blendfile: nonEmpty('Path of the blend file to render.'),
      args: stringList('Arguments placed after the blend file, e.g. `--render-frame 1..10`.'),
      outputDir: nonEmpty(
        'Folder whose new images become previews; by default the folder of `--render-output`.',
      ),
    },
    ['exe', 'blendfile'],
  ),
  'frames-to-video': object(
    'Encode an image sequence into a video: runs `{exe} {exeArgs} {argsBefore} {input} {args} -r {fps} {outputFile}`.',
    {
      exe: nonEmpty('FFmpeg executable, e.g. `ffmpeg` or the variable `{ffmpeg}`.'),
      exeArgs: {
        type: 'string',
        description: 'Extra arguments as one string, split like a shell would.',
      },
      fps: { type: 'number', exclusiveMinimum: 0, description: 'Frames per second of the video.' },
      inputGlob: nonEmpty('Glob matching the input images, e.g. `/render/shot/*.png`.'),
      outputFile: nonEmpty('Path of the video to write.'),
      argsBefore: stringList('Arguments placed before the input.'),
      args: stringList('Arguments placed after the input, e.g. codec options.'),
    },
    ['exe', 'fps', 'inputGlob', 'outputFile'],
  ),
  exec: object(
    'Run a program directly (never through a shell).',
    {
      exe: nonEmpty('Program to run: a path, a name on PATH, or a variable such as `{ffmpeg}`.'),
      args: stringList('Arguments, one per element; no shell quoting is applied.'),
      env: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Environment variables added to the worker environment.',
      },
      cwd: nonEmpty('Working directory of the program.'),
      outputDir: nonEmpty(
        'Folder the program writes images to; the worker watches it and uploads the newest as a preview.',
      ),
    },
    ['exe'],
  ),
  'make-directory': object(
    'Create a directory and its missing parents.',
    { path: nonEmpty('Directory to create.') },
    ['path'],
  ),
  'move-directory': object(
    'Move a directory; an existing destination is first moved aside with its modification time as suffix.',
    { src: nonEmpty('Directory to move.'), dest: nonEmpty('Where to move it.') },
    ['src', 'dest'],
  ),
  'copy-file': object(
    'Copy a file; the destination must not exist.',
    { src: nonEmpty('File to copy (absolute path).'), dest: nonEmpty('New file (absolute path).') },
    ['src', 'dest'],
  ),
  'delete-path': object(
    'Delete a file or a directory with its contents.',
    { path: nonEmpty('File or directory to delete.') },
    ['path'],
  ),
  echo: object(
    'Write a message to the task log.',
    { message: { type: 'string', description: 'Text to log.' } },
    ['message'],
  ),
  sleep: object(
    'Wait, doing nothing; for tests and demos.',
    {
      duration_in_seconds: {
        type: 'number',
        minimum: 0,
        description: 'How long to wait, in seconds.',
      },
    },
    ['duration_in_seconds'],
  ),
};
