import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';

/** Where the CLI writes; tests pass their own to capture output. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Builds the `farm` command tree. */
export function createProgram(io: CliIo = defaultIo): Command {
  const { version } = JSON.parse(
    readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'),
  ) as { version: string };
  const program = new Command('farm')
    .description('Submit, follow and control jobs on a Farm manager')
    .version(version, '-V, --version', 'print the version of farm')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  return program;
}

/** Runs `farm` with argv as Node gives it (`[node, script, ...args]`); resolves to the exit code. */
export async function run(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    const exitCode = (error as { exitCode?: unknown }).exitCode;
    return typeof exitCode === 'number' ? exitCode : 1;
  }
}

/** Entry point of the `farm` bin. */
export function main(argv: string[]): void {
  void run(argv).then((code) => {
    process.exitCode = code;
  });
}
