import { FarmError } from '../../errors';

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
// Inside double quotes, POSIX shells only give a backslash meaning before these.
const DOUBLE_QUOTE_ESCAPABLE = new Set(['"', '\\', '$', '`']);

function unterminated(what: string, s: string): FarmError {
  return new FarmError('validation_failed', `cannot split ${JSON.stringify(s)}: ${what}`);
}

/**
 * Splits a command line into arguments the way a POSIX shell would, without expanding anything:
 * whitespace separates; `'...'` is literal; `"..."` honours `\"`, `\\`, `\$` and `` \` `` (other
 * backslashes stay); outside quotes a backslash escapes the next character and backslash-newline
 * joins lines. `''` gives an empty argument.
 *
 * @throws FarmError `validation_failed` for an unterminated quote or a trailing lone backslash.
 * @example shellSplit(`-o "my file.png" -x 'a b'`) // ['-o', 'my file.png', '-x', 'a b']
 */
export function shellSplit(s: string): string[] {
  const args: string[] = [];
  let current = '';
  // Distinguishes "no argument yet" from an empty quoted argument.
  let inArg = false;
  let i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    if (WHITESPACE.has(ch)) {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
      i++;
    } else if (ch === "'") {
      const close = s.indexOf("'", i + 1);
      if (close < 0) throw unterminated('single quote is never closed', s);
      current += s.slice(i + 1, close);
      inArg = true;
      i = close + 1;
    } else if (ch === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw unterminated('double quote is never closed', s);
        const c = s[i]!;
        if (c === '"') break;
        const next = s[i + 1];
        if (c === '\\' && next !== undefined && DOUBLE_QUOTE_ESCAPABLE.has(next)) {
          current += next;
          i += 2;
        } else if (c === '\\' && next === '\n') {
          i += 2;
        } else {
          current += c;
          i++;
        }
      }
      inArg = true;
      i++;
    } else if (ch === '\\') {
      const next = s[i + 1];
      if (next === undefined) throw unterminated('it ends with a lone backslash', s);
      if (next !== '\n') {
        current += next;
        inArg = true;
      }
      i += 2;
    } else {
      current += ch;
      inArg = true;
      i++;
    }
  }
  if (inArg) args.push(current);
  return args;
}
