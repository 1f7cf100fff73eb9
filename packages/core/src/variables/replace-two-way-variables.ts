import type { ResolvedVariables } from './resolve-variables';
import { mapStrings } from './map-strings';
import { isWindowsPlatform, startsWithPath } from './path-prefix';
import type { VariableReader } from './variable-config';

export interface ReplaceTwoWayOptions {
  /** The submitter's platform. */
  platform: string;
  /** Whose values to match; `users`, since it is a user's path being submitted. */
  audience?: VariableReader;
}

/** One prefix turned into a placeholder. */
export interface TwoWayReplacement {
  /** JSON pointer to the string inside the value passed in, e.g. `/settings/blendfile`. */
  pointer: string;
  variable: string;
  before: string;
  after: string;
}

export interface ReplaceTwoWayResult<T> {
  value: T;
  replacements: TwoWayReplacement[];
}

interface Candidate {
  name: string;
  value: string;
}

/**
 * At submission, turns the submitter's absolute paths into portable placeholders: every string
 * in `value` (nested objects and arrays included) that starts with a two-way variable's value for
 * `platform` gets that prefix replaced by `{name}`. The longest matching value wins (ties by
 * name), the prefix must end at a path boundary, and on Windows matching ignores case and slash
 * direction, and the rest of the path is rewritten with `/`. Returns a new value; the input is
 * not modified.
 *
 * @example
 * replaceTwoWayVariables({ out: 'C:\\Render\\shot' }, vars, { platform: 'windows' })
 * // { value: { out: '{render}/shot' }, replacements: [...] }
 */
export function replaceTwoWayVariables<T>(
  value: T,
  variables: ResolvedVariables,
  options: ReplaceTwoWayOptions,
): ReplaceTwoWayResult<T> {
  const windows = isWindowsPlatform(options.platform);
  const candidates: Candidate[] = Object.entries(
    variables.lookup(options.audience ?? 'users', options.platform),
  )
    .filter(([, v]) => v.isTwoWay && v.value !== '')
    .map(([name, v]) => ({ name, value: v.value }))
    .sort(
      (a, b) => b.value.length - a.value.length || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );

  const replacements: TwoWayReplacement[] = [];
  const replaceString = (text: string, pointer: string): string => {
    const match = candidates.find((c) => startsWithPath(text, c.value, windows));
    if (!match) return text;
    let rest = text.slice(match.value.length);
    // Stored jobs should read the same whichever platform submitted them.
    if (windows) rest = rest.replace(/\\/g, '/');
    const after = `{${match.name}}${rest}`;
    replacements.push({ pointer, variable: match.name, before: text, after });
    return after;
  };

  return { value: mapStrings(value, replaceString) as T, replacements };
}
