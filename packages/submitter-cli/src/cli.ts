import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { createDefaultIo, resolveIo, type CliIo } from './cli-io';
import { createContext, type CliContext } from './context';
import { EXIT_CODES, exitCodeForError, isCliExit } from './exit-codes';
import { formatError } from './report-error';
import { registerJobActionCommands } from './commands/job-actions';
import { registerJobCommands } from './commands/job';
import { registerJobTypeCommands } from './commands/job-types';
import { registerJobsCommand } from './commands/jobs';
import { registerLoginCommands } from './commands/login';
import { registerTokenCommands } from './commands/tokens';
import { registerLogsCommand } from './commands/logs';
import { registerSubmitCommand } from './commands/submit';
import { registerTasksCommand } from './commands/tasks';
import { registerUploadCommand } from './commands/upload';
import { registerWorkerCommands } from './commands/workers';
import { registerScheduleCommands } from './commands/schedules';

export type { CliIo } from './cli-io';

const HELP_FOOTER = `
Connection:
  The manager and token come from --url/--token, else FARM_URL/FARM_TOKEN, else "farm login".

Exit codes:
  0  ok
  1  error
  2  invalid input or usage
  3  the watched job failed
  4  the watched job was canceled
  5  cannot reach the manager
  6  not authenticated, or not allowed

Colour is used only on a terminal, and never when NO_COLOR is set.
Every command has --help with examples; docs/cli.md has them all.
`;

/** Builds the `farm` command tree on a context. */
function buildProgram(ctx: CliContext): Command {
  const { version } = JSON.parse(
    readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'),
  ) as { version: string };
  const program = new Command('farm')
    .description('Submit, follow and control jobs on a Farm manager')
    .version(version, '-V, --version', 'print the version of farm')
    .option('--url <url>', 'the manager, e.g. http://farm:8080 (overrides FARM_URL and the login)')
    .option('--token <token>', 'an API token (overrides FARM_TOKEN and the login)')
    .option('--verbose', 'on errors, also print the error code and details')
    .configureOutput({
      writeOut: ctx.io.stdout,
      writeErr: ctx.io.stderr,
      // Commander says "error: ..."; every farm error reads "farm: ...".
      outputError: (text, write) => write(text.replace(/^error: /, 'farm: ')),
    })
    .exitOverride()
    .showSuggestionAfterError(true)
    .addHelpText('after', HELP_FOOTER);
  program.hook('preAction', (_program, action) => {
    ctx.verbose = action.optsWithGlobals<{ verbose?: boolean }>().verbose === true;
  });

  registerLoginCommands(program, ctx);
  registerTokenCommands(program, ctx);
  registerJobTypeCommands(program, ctx);
  registerSubmitCommand(program, ctx);
  registerUploadCommand(program, ctx);
  registerJobsCommand(program, ctx);
  registerJobCommands(program, ctx);
  registerJobActionCommands(program, ctx);
  registerTasksCommand(program, ctx);
  registerLogsCommand(program, ctx);
  registerWorkerCommands(program, ctx);
  registerScheduleCommands(program, ctx);
  return program;
}

/** Builds the `farm` command tree; `io` is where it reads and writes (the terminal by default). */
export function createProgram(io: CliIo = createDefaultIo()): Command {
  return buildProgram(createContext(resolveIo(io)));
}

/**
 * Runs `farm` with argv as Node gives it (`[node, script, ...args]`) and resolves to the exit
 * code (see the help footer). Errors are printed on `io.stderr`, never thrown.
 *
 * @example
 * const code = await run(['node', 'farm', 'jobs', '--json'], { stdout, stderr, env });
 */
export async function run(argv: string[], io: CliIo = createDefaultIo()): Promise<number> {
  const ctx = createContext(resolveIo(io));
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv);
    return EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message already.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? EXIT_CODES.ok
        : EXIT_CODES.invalidInput;
    }
    if (!(isCliExit(error) && error.silent)) {
      ctx.io.stderr(formatError(error, ctx.verbose || argv.includes('--verbose')));
    }
    return exitCodeForError(error);
  }
}

/** Entry point of the `farm` bin. */
export function main(argv: string[]): void {
  void run(argv).then((code) => {
    process.exitCode = code;
  });
}
