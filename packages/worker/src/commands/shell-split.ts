import { FarmError } from '@farm/core';

/**
 * Splits a string into arguments like a POSIX shell, without expanding anything: whitespace
 * separates, `'...'` is literal, `"..."` honours backslash before `"`, `\`, `$` and `` ` ``, and a
 * backslash outside quotes escapes the next character.
 *
 * @throws FarmError `validation_failed` for an unterminated quote or a trailing backslash.
 */
export function shellSplit(s: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else current += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1]!)) current += s[++i];
      else current += ch;
    } else if (/\s/.test(ch)) {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
    } else {
      inArg = true;
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '\\') {
        if (i + 1 >= s.length) throw splitError(s, 'it ends with a lone backslash');
        current += s[++i];
      } else current += ch;
    }
  }
  if (quote) throw splitError(s, `a ${quote} quote is not closed`);
  if (inArg) args.push(current);
  return args;
}

function splitError(s: string, why: string): FarmError {
  return new FarmError('validation_failed', `cannot split ${JSON.stringify(s)}: ${why}`);
}
