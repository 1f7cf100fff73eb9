// ajv publishes its draft 2020-12 class only under dist/; there is no other entry point.
// eslint-disable-next-line no-restricted-imports
import Ajv2020 from 'ajv/dist/2020';
// eslint-disable-next-line no-restricted-imports
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ValidationIssue } from '../errors';
import { COMMAND_NAMES, COMMAND_SCHEMAS } from './command-schemas';
import type { CommandName } from './command-types';

let validators: Map<string, ValidateFunction> | undefined;
// A Set: a 100,000-task job asks this once per command.
const commandNames: ReadonlySet<string> = new Set(COMMAND_NAMES);

// Compiling nine schemas costs milliseconds; doing it on first use keeps `require('@farm/core')` cheap.
function getValidators(): Map<string, ValidateFunction> {
  if (validators) return validators;
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  validators = new Map(COMMAND_NAMES.map((name) => [name, ajv.compile(COMMAND_SCHEMAS[name])]));
  return validators;
}

/** True when `name` is a command the worker implements. */
export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && commandNames.has(name);
}

// `/args/2` becomes `.args[2]`, so paths read like the JavaScript that built them.
function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('');
}

function toIssue(commandName: string, error: ErrorObject): ValidationIssue {
  const base = `parameters${pointerToPath(error.instancePath)}`;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') {
    return { path: `${base}.${String(params.missingProperty)}`, message: 'is required' };
  }
  if (error.keyword === 'additionalProperties' && error.instancePath === '') {
    return {
      path: `${base}.${String(params.additionalProperty)}`,
      message: `is not a parameter of ${commandName}`,
    };
  }
  return { path: base, message: error.message ?? `fails ${error.keyword}` };
}

/**
 * Checks a command against the parameter schema of its name and returns every problem, with
 * paths such as `parameters.fps` (empty when the command is valid).
 *
 * @example validateCommand({ name: 'sleep', parameters: { duration_in_seconds: -1 } })
 * // [{ path: 'parameters.duration_in_seconds', message: 'must be >= 0' }]
 */
export function validateCommand(command: unknown): ValidationIssue[] {
  if (typeof command !== 'object' || command === null || Array.isArray(command)) {
    return [{ path: '', message: 'a command must be an object { name, parameters }' }];
  }
  const { name, parameters, steps } = command as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  if (!isCommandName(name)) {
    issues.push({
      path: 'name',
      message: `unknown command ${JSON.stringify(name)}; known commands: ${COMMAND_NAMES.join(', ')}`,
    });
  }
  if (steps !== undefined && !(Number.isSafeInteger(steps) && (steps as number) >= 0)) {
    issues.push({ path: 'steps', message: 'must be a whole number of at least 0' });
  }
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    issues.push({ path: 'parameters', message: 'must be an object' });
    return issues;
  }
  if (!isCommandName(name)) return issues;
  const validate = getValidators().get(name)!;
  if (!validate(parameters)) {
    for (const error of validate.errors ?? []) issues.push(toIssue(name, error));
  }
  return issues;
}
