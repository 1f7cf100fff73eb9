import fc from 'fast-check';
import { isFarmError } from '../../errors';
import { shellSplit } from './shell-split';

describe('shellSplit', () => {
  it.each<[string, string[]]>([
    ['', []],
    ['   \t\n ', []],
    ['a b  c', ['a', 'b', 'c']],
    ['  -b -y  ', ['-b', '-y']],
    ["'a b' c", ['a b', 'c']],
    ['"a b" c', ['a b', 'c']],
    ["''", ['']],
    ['"" x', ['', 'x']],
    ["a''b", ['ab']],
    ['pre"mid dle"post', ['premid dlepost']],
    ['\'$HOME \\n "x"\'', ['$HOME \\n "x"']],
    ['"say \\"hi\\""', ['say "hi"']],
    ['"a\\\\b"', ['a\\b']],
    ['"\\$HOME \\`cmd\\`"', ['$HOME `cmd`']],
    ['"keep \\n and \\x"', ['keep \\n and \\x']],
    ['a\\ b', ['a b']],
    ['\\"quoted\\"', ['"quoted"']],
    ['C:\\render\\out', ['C:renderout']],
    ['"C:\\render\\out"', ['C:\\render\\out']],
    ['one\\\ntwo', ['onetwo']],
    ['"one\\\ntwo"', ['onetwo']],
    ['--python-expr \'import bpy; print("x")\'', ['--python-expr', 'import bpy; print("x")']],
    ['$HOME ~ *', ['$HOME', '~', '*']],
  ])('%j → %j', (input, args) => {
    expect(shellSplit(input)).toEqual(args);
  });

  it.each<[string, RegExp]>([
    ["'open", /single quote is never closed/],
    ['a "open', /double quote is never closed/],
    ['"ends with escaped quote\\"', /double quote is never closed/],
    ['trailing\\', /lone backslash/],
  ])('refuses %j', (input, message) => {
    let thrown: unknown;
    try {
      shellSplit(input);
    } catch (error) {
      thrown = error;
    }
    expect(isFarmError(thrown) && thrown.code).toBe('validation_failed');
    expect((thrown as Error).message).toMatch(message);
  });

  const singleQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;
  const doubleQuote = (arg: string): string => `"${arg.replace(/["\\$`]/g, (c) => `\\${c}`)}"`;
  const backslashQuote = (arg: string): string =>
    arg === '' ? "''" : arg.replace(/[^A-Za-z0-9_\-./]/g, (c) => (c === '\n' ? "'\n'" : `\\${c}`));

  it.each([
    ['single quotes', singleQuote],
    ['double quotes', doubleQuote],
    ['backslashes', backslashQuote],
  ])('round-trips arguments quoted with %s', (_name, quote) => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary' }), { maxLength: 6 }),
        fc.constantFrom(' ', '\t', '  \n '),
        (args, separator) => {
          expect(shellSplit(args.map(quote).join(separator))).toEqual(args);
        },
      ),
    );
  });
});
