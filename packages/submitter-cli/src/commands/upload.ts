import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { CliExit, EXIT_CODES } from '../exit-codes';
import { uploadFolder, type UploadFolderResult } from '../upload/upload-folder';
import { addExamples, parseIntOption } from './command-helpers';

interface UploadOptions {
  name?: string;
  concurrency?: number;
  json?: boolean;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The checkout name for a folder: its own name, made safe (`My Shot!` → `My-Shot`). */
export function checkoutNameFor(folder: string): string {
  const base = path
    .basename(path.resolve(folder))
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 80);
  return base || 'upload';
}

/** Uploads `folder` with the command's connection and reports progress on stderr. */
export async function runUpload(
  ctx: CliContext,
  command: Command,
  folder: string,
  options: { name?: string; concurrency?: number },
): Promise<UploadFolderResult> {
  const name = options.name ?? checkoutNameFor(folder);
  if (!NAME_PATTERN.test(name)) {
    throw new CliExit(
      EXIT_CODES.invalidInput,
      `--name must be letters, digits, ".", "_" and "-" (at most 100), got ${JSON.stringify(name)}`,
    );
  }
  const client = ctx.client(command);
  const { url, token } = ctx.connection(command);
  const result = await uploadFolder(
    client,
    { url, token: token ?? '', fetch: ctx.io.fetch },
    folder,
    {
      name,
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      note: (text) => ctx.note(text),
    },
  );
  ctx.note(
    `uploaded ${result.uploadedFiles} of ${result.files} files (${result.uploadedBytes} bytes); checked out as ${result.checkout.path}`,
  );
  return result;
}

/** `farm upload FOLDER`. */
export function registerUploadCommand(program: Command, ctx: CliContext): void {
  addExamples(
    program
      .command('upload')
      .description(
        "upload a folder to the farm's file store (only files it lacks) and check it out as a job folder",
      )
      .argument('<folder>', 'the folder to upload')
      .option('-n, --name <name>', 'the checkout name (default: the folder name)')
      .option(
        '-c, --concurrency <n>',
        'files uploaded at once (default 4)',
        parseIntOption('--concurrency', 1, 64),
      )
      .option('--json', 'print the checkout and what was sent as JSON')
      .action(async (folder: string, options: UploadOptions, command: Command) => {
        const result = await runUpload(ctx, command, folder, options);
        if (options.json) ctx.printJson(result);
        else ctx.print(result.checkout.path);
      }),
    [
      'farm upload ./shot010',
      'farm upload ./shot010 --name shot010-v2 --concurrency 8',
      'DIR=$(farm upload ./shot010) && farm submit simple-blender-render --set blendfile="$DIR/shot.blend" ...',
    ],
  );
}
