import { FarmError } from '../errors';
import { mapStrings } from './map-strings';
import { isWindowsPlatform } from './path-prefix';
import type { ResolvedVariable, ResolvedVariables } from './resolve-variables';
import { VARIABLE_NAME_PATTERN, type VariableReader } from './variable-config';

/** How deep a variable's value may refer to other variables (`{a}` → `{b}` → ...). */
export const MAX_VARIABLE_NESTING = 8;

export interface ExpandVariablesOptions {
  /** The platform of the worker that will run the commands. */
  platform: string;
  /** Whose values to use; `workers`, since workers run what is expanded. */
  audience?: VariableReader;
  /** Placeholders a job type fills in later (`frame_start`); left as `{name}` and not reported. */
  ignore?: readonly string[];
}

export interface ExpandVariablesResult<T> {
  value: T;
  /** Names used as `{name}` that no variable defines, sorted; they are left in the text. */
  unknown: string[];
  /** Variables whose values refer to themselves (directly or not) or nest too deep, sorted. */
  cyclic: string[];
}

interface Problem {
  pointer: string;
  name: string;
  kind: 'unknown' | 'cyclic';
}

type PathMode = 'off' | 'tail' | 'whole';

interface Expanded {
  text: string;
  /** Starts with a two-way variable, so it is a path and gets the same separator fixing. */
  isPath: boolean;
}

const TAIL_END = /[\s"']/;

/**
 * At task assignment, replaces every `{name}` in every string of `value` (nested objects and
 * arrays included) with the variable's value for `platform`. Rules:
 * - `{{` and `}}` stand for literal braces; `{` not forming `{valid-name}` is literal text.
 * - Single pass: substituted text is never rescanned, except that a variable's own value may
 *   use other variables, expanded up to `MAX_VARIABLE_NESTING` deep; a cycle is reported in
 *   `cyclic` and its placeholder left as is.
 * - Unknown names stay as `{name}` and are listed in `unknown`; names in `ignore` stay silently.
 * - Windows targets get backslashes where the text is a path from a two-way variable: a string
 *   that starts with a two-way placeholder is a path throughout, so every `/` in it becomes `\`;
 *   a two-way placeholder later in a string converts its value and the text right after it up to
 *   the next whitespace or quote. A variable whose value starts with a two-way placeholder
 *   (`scripts: {render}/scripts`) counts as a path too. Other text is left as given, and other
 *   platforms' text is never changed.
 */
export function expandVariables<T>(
  value: T,
  variables: ResolvedVariables,
  options: ExpandVariablesOptions,
): ExpandVariablesResult<T> {
  const { result, problems } = expand(value, variables, options);
  const names = (kind: Problem['kind']): string[] =>
    [...new Set(problems.filter((p) => p.kind === kind).map((p) => p.name))].sort();
  return { value: result as T, unknown: names('unknown'), cyclic: names('cyclic') };
}

/**
 * `expandVariables` that refuses to leave placeholders behind.
 *
 * @throws FarmError `validation_failed` listing every unknown (or cyclic) variable and where it is.
 */
export function expandVariablesStrict<T>(
  value: T,
  variables: ResolvedVariables,
  options: ExpandVariablesOptions,
): T {
  const { result, problems } = expand(value, variables, options);
  if (problems.length > 0) {
    const unknown = [...new Set(problems.filter((p) => p.kind === 'unknown').map((p) => p.name))];
    const cyclic = [...new Set(problems.filter((p) => p.kind === 'cyclic').map((p) => p.name))];
    const parts = [
      unknown.length > 0 ? `unknown variables ${unknown.map((n) => `{${n}}`).join(', ')}` : '',
      cyclic.length > 0
        ? `variables that refer to themselves ${cyclic.map((n) => `{${n}}`).join(', ')}`
        : '',
    ].filter(Boolean);
    throw new FarmError(
      'validation_failed',
      `cannot expand variables for ${options.platform}: ${parts.join('; ')}`,
      {
        details: {
          unknown,
          cyclic,
          issues: problems.map((p) => ({
            path: p.pointer || '/',
            message:
              p.kind === 'unknown'
                ? `unknown variable {${p.name}}`
                : `variable {${p.name}} refers to itself`,
          })),
        },
      },
    );
  }
  return result as T;
}

function expand(
  value: unknown,
  variables: ResolvedVariables,
  options: ExpandVariablesOptions,
): { result: unknown; problems: Problem[] } {
  const table = variables.lookup(options.audience ?? 'workers', options.platform);
  const ignore = new Set(options.ignore ?? []);
  const windows = isWindowsPlatform(options.platform);
  const problems: Problem[] = [];
  // A variable's expanded value does not depend on where it is used, so it is computed once.
  const expandedValues = new Map<string, Expanded>();

  const valueOf = (name: string, stack: string[], pointer: string): Expanded | undefined => {
    const cached = expandedValues.get(name);
    if (cached !== undefined) return cached;
    if (stack.includes(name) || stack.length >= MAX_VARIABLE_NESTING) {
      problems.push({ pointer, name, kind: 'cyclic' });
      return undefined;
    }
    const variable = table[name] as ResolvedVariable;
    const before = problems.length;
    const expanded = substitute(variable.value, [...stack, name], pointer);
    // Inside a cycle the text depends on where the expansion started, so only clean results are
    // reused; that keeps the output independent of the order strings are visited in.
    if (!problems.slice(before).some((p) => p.kind === 'cyclic'))
      expandedValues.set(name, expanded);
    return expanded;
  };

  const substitute = (text: string, stack: string[], pointer: string): Expanded => {
    let out = '';
    let mode: PathMode = 'off';
    let startsWithPath = false;
    const emit = (piece: string): void => {
      for (const ch of piece) {
        if (mode === 'tail' && TAIL_END.test(ch)) mode = 'off';
        out += mode !== 'off' && ch === '/' ? '\\' : ch;
      }
    };
    let i = 0;
    while (i < text.length) {
      const ch = text[i]!;
      if ((ch === '{' || ch === '}') && text[i + 1] === ch) {
        emit(ch);
        i += 2;
        continue;
      }
      if (ch === '{') {
        const close = text.indexOf('}', i + 1);
        const name = close < 0 ? '' : text.slice(i + 1, close);
        if (VARIABLE_NAME_PATTERN.test(name)) {
          const placeholder = `{${name}}`;
          i = close + 1;
          if (ignore.has(name)) {
            emit(placeholder);
          } else if (!Object.hasOwn(table, name)) {
            problems.push({ pointer, name, kind: 'unknown' });
            emit(placeholder);
          } else {
            const expanded = valueOf(name, stack, pointer);
            if (expanded === undefined) {
              emit(placeholder);
            } else if (table[name]!.isTwoWay || expanded.isPath) {
              if (out === '') startsWithPath = true;
              if (windows && mode !== 'whole') mode = out === '' ? 'whole' : 'tail';
              out += windows ? expanded.text.replace(/\//g, '\\') : expanded.text;
            } else {
              emit(expanded.text);
            }
          }
          continue;
        }
      }
      emit(ch);
      i++;
    }
    return { text: out, isPath: startsWithPath };
  };

  const result = mapStrings(value, (text, pointer) => substitute(text, [], pointer).text);
  return { result, problems };
}
