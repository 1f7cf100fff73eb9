import { validateCommand, type Command } from '../commands';
import type { ValidationIssue } from '../errors';
import type { CompiledTask } from './job-type-types';

const STRING_LIST_PARAMETERS = ['args', 'argsBefore'];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// Flamenco scripts put numbers in argument lists (`'-r', settings.fps`) and its worker prints
// them; we do the same once here so workers only ever see strings. The lists are changed in
// place: they come from the JSON text of the script's result, so nobody else holds them, and a
// copy per command would be 100,000 more arrays for the garbage collector on a big job.
function normaliseParameters(parameters: unknown): void {
  if (!isObject(parameters)) return;
  for (const key of STRING_LIST_PARAMETERS) {
    const list = parameters[key];
    if (!Array.isArray(list)) continue;
    for (let i = 0; i < list.length; i++) {
      const item: unknown = list[i];
      if ((typeof item === 'number' && Number.isFinite(item)) || typeof item === 'boolean') {
        list[i] = String(item);
      }
    }
  }
}

function findCycle(dependsOn: readonly number[][], remaining: ReadonlySet<number>): number[] {
  // Every task left after the topological sort waits for another left-over task, so following
  // such waits must come back to a task already visited.
  const start = remaining.values().next().value as number;
  const seenAt = new Map<number, number>();
  const walk: number[] = [];
  let current = start;
  while (!seenAt.has(current)) {
    seenAt.set(current, walk.length);
    walk.push(current);
    current = dependsOn[current]!.find((d) => remaining.has(d))!;
  }
  return [...walk.slice(seenAt.get(current)), current];
}

/** The tasks of a script's result after checking, or every problem found. */
export interface TaskCheck {
  tasks: CompiledTask[];
  issues: ValidationIssue[];
  warnings: string[];
}

function readDependencies(
  raw: unknown,
  taskCount: number,
  issues: ValidationIssue[],
): Map<number, number[]> {
  const byTask = new Map<number, number[]>();
  if (!Array.isArray(raw)) return byTask;
  for (const entry of raw as unknown[]) {
    if (!Array.isArray(entry) || !Number.isInteger(entry[0]) || !Array.isArray(entry[1])) continue;
    const index = entry[0] as number;
    // A Set: a final task may wait for 100,000 render tasks.
    const dependsOn = new Set<number>();
    for (const dependency of entry[1] as unknown[]) {
      if (
        typeof dependency === 'number' &&
        Number.isInteger(dependency) &&
        dependency >= 0 &&
        dependency < taskCount
      ) {
        dependsOn.add(dependency);
      } else {
        const missing = isObject(dependency) ? String(dependency.missing) : String(dependency);
        issues.push({
          path: `tasks[${index}].dependsOn`,
          message: `depends on task "${missing}", which was never added to this job (job.addTask)`,
        });
      }
    }
    byTask.set(index, [...dependsOn]);
  }
  return byTask;
}

// The path of a problem is built only when there is one: for 100,000 valid commands the texts
// would be garbage.
function readCommand(
  rawCommand: unknown,
  taskIndex: number,
  commandIndex: number,
  issues: ValidationIssue[],
): Command {
  const command = isObject(rawCommand) ? rawCommand : {};
  normaliseParameters(command.parameters);
  for (const issue of validateCommand(rawCommand)) {
    const at = `tasks[${taskIndex}].commands[${commandIndex}]`;
    issues.push({ path: `${at}${issue.path ? `.${issue.path}` : ''}`, message: issue.message });
  }
  // A command from author.Command is already what the worker gets; reusing the parsed object
  // spares 100,000 copies on a big job. Anything else is copied down to its known fields.
  if (hasOnlyCommandFields(command)) return command as unknown as Command;
  const result: Command = {
    name: command.name as string,
    parameters: command.parameters as Record<string, unknown>,
  };
  if (typeof command.steps === 'number') result.steps = command.steps;
  return result;
}

// True for `{ name, parameters }` or `{ name, parameters, steps }` with a numeric `steps`, in that
// order: then the object is equal, field by field and in order, to the copy `readCommand` makes.
function hasOnlyCommandFields(command: Record<string, unknown>): boolean {
  let position = 0;
  for (const key in command) {
    if (position === 0 ? key !== 'name' : position === 1 ? key !== 'parameters' : key !== 'steps') {
      return false;
    }
    position++;
  }
  if (position === 3) return typeof command.steps === 'number';
  return position === 2;
}

function readTags(raw: unknown, index: number, issues: ValidationIssue[]): string[] {
  const tags: string[] = [];
  if (raw === undefined) return tags;
  if (!Array.isArray(raw)) {
    issues.push({ path: `tasks[${index}].tags`, message: 'must be a list of strings' });
    return tags;
  }
  (raw as unknown[]).forEach((tag, t) => {
    if (typeof tag !== 'string' || tag.trim() === '') {
      issues.push({ path: `tasks[${index}].tags[${t}]`, message: 'must be a non-empty string' });
    } else if (!tags.includes(tag.trim())) {
      tags.push(tag.trim());
    }
  });
  return tags;
}

/**
 * Checks the tasks a script produced: names and types, priorities, tags, every command against
 * its schema, dependencies on tasks of the same job, and no dependency cycles.
 */
export function checkCompiledTasks(raw: unknown, rawDependencies?: unknown): TaskCheck {
  const issues: ValidationIssue[] = [];
  const warnings: string[] = [];
  if (!Array.isArray(raw) || raw.length === 0) {
    issues.push({
      path: 'tasks',
      message: 'the job type produced no tasks; call job.addTask(task)',
    });
    return { tasks: [], issues, warnings };
  }
  const dependencies = readDependencies(rawDependencies, raw.length, issues);
  const tasks: CompiledTask[] = new Array<CompiledTask>(raw.length);
  for (let index = 0; index < raw.length; index++) {
    const rawTask: unknown = raw[index];
    const task = isObject(rawTask) ? rawTask : {};
    const name = typeof task.name === 'string' ? task.name.trim() : '';
    if (name === '')
      issues.push({ path: `tasks[${index}].name`, message: 'must be a non-empty string' });
    const type = typeof task.type === 'string' ? task.type.trim() : '';
    if (type === '')
      issues.push({ path: `tasks[${index}].type`, message: 'must be a non-empty task type' });
    // Scripts only send a priority that differs from the default.
    const priority = task.priority === undefined ? 50 : task.priority;
    if (!(Number.isInteger(priority) && (priority as number) >= 0 && (priority as number) <= 100)) {
      issues.push({
        path: `tasks[${index}].priority`,
        message: 'must be a whole number from 0 to 100',
      });
    }
    // The parsed list is reused like the argument lists (see normaliseParameters).
    const commands = (Array.isArray(task.commands) ? task.commands : []) as Command[];
    let steps: number | undefined;
    for (let c = 0; c < commands.length; c++) {
      const command = readCommand(commands[c], index, c, issues);
      if (command.steps !== undefined) steps = (steps ?? 0) + command.steps;
      commands[c] = command;
    }
    if (commands.length === 0) warnings.push(`task "${name}" (index ${index}) has no commands`);
    const compiled: CompiledTask = {
      index,
      name,
      type,
      priority: priority as number,
      tags: readTags(task.tags, index, issues),
      commands,
      dependsOn: dependencies.get(index) ?? [],
    };
    if (steps !== undefined) compiled.steps = steps;
    tasks[index] = compiled;
  }
  issues.push(...checkCycles(tasks));
  return { tasks, issues, warnings };
}

function checkCycles(tasks: readonly CompiledTask[]): ValidationIssue[] {
  if (tasks.every((task) => task.dependsOn.length === 0)) return [];
  const waiting = tasks.map((task) => task.dependsOn.length);
  const dependents: number[][] = tasks.map(() => []);
  tasks.forEach((task) => task.dependsOn.forEach((d) => dependents[d]!.push(task.index)));
  const ready = tasks.filter((task) => task.dependsOn.length === 0).map((task) => task.index);
  let done = 0;
  while (ready.length > 0) {
    const next = ready.pop()!;
    done++;
    for (const dependent of dependents[next]!) {
      if (--waiting[dependent]! === 0) ready.push(dependent);
    }
  }
  if (done === tasks.length) return [];
  const remaining = new Set(tasks.filter((_, i) => waiting[i]! > 0).map((task) => task.index));
  const cycle = findCycle(
    tasks.map((task) => task.dependsOn),
    remaining,
  );
  const names = cycle.map((i) => `"${tasks[i]!.name}"`);
  return [
    {
      path: `tasks[${cycle[0]}].dependsOn`,
      message: `dependency cycle: ${names.join(' waits for ')}; no task of the cycle could ever start`,
    },
  ];
}
