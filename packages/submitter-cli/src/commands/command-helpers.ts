import type { Command } from 'commander';
import { invalidInput } from '../exit-codes';

/** Adds an "Examples:" section to a command's help. */
export function addExamples(command: Command, examples: string[]): Command {
  return command.addHelpText(
    'after',
    `\nExamples:\n${examples.map((example) => `  $ ${example}`).join('\n')}\n`,
  );
}

/** Collects a repeatable option into a list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Collects a repeatable option whose values may also be comma-separated (`--status a,b`). */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ];
}

/** Parses a whole number option within bounds, or refuses with exit code 2. */
export function parseIntOption(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^[+-]?\d+$/.test(value.trim())) {
      throw invalidInput(`${name} must be a whole number, got ${JSON.stringify(value)}`);
    }
    const number = Number(value);
    if (number < min || number > max) {
      throw invalidInput(`${name} must be between ${min} and ${max}, got ${number}`);
    }
    return number;
  };
}

/** Refuses a value outside `allowed` with exit code 2. */
export function checkChoice<T extends string>(
  name: string,
  value: string,
  allowed: readonly T[],
): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidInput(
      `${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID (job, task and worker ids). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Refuses ids that are not UUIDs before asking the manager (exit code 2). */
export function checkIds(kind: string, ids: readonly string[]): void {
  const bad = ids.filter((id) => !isUuid(id));
  if (bad.length > 0) {
    throw invalidInput(
      `${bad.map((id) => JSON.stringify(id)).join(', ')} ${bad.length === 1 ? 'is not a' : 'are not'} ${kind} id${bad.length === 1 ? '' : 's'} (ids look like 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b)`,
    );
  }
}
