import { createLineSplitter, quoteCommandLine } from '../../src/process';

function split(chunks: string[], max?: number): string[] {
  const lines: string[] = [];
  const splitter = createLineSplitter((l) => lines.push(l), max);
  for (const chunk of chunks) splitter.push(Buffer.from(chunk));
  splitter.end();
  return lines;
}

describe('createLineSplitter', () => {
  it.each<[string, string[], string[]]>([
    ['plain lines', ['a\nb\n'], ['a', 'b']],
    ['a line across chunks', ['ab', 'c\nd', 'e\n'], ['abc', 'de']],
    ['CRLF, also split between chunks', ['a\r\nb\r', '\nc\r\n'], ['a', 'b', 'c']],
    [
      'FFmpeg-style \\r redraws',
      ['frame=  1\rframe=  2\rdone\n'],
      ['frame=  1', 'frame=  2', 'done'],
    ],
    ['empty lines', ['\n\nx\n'], ['', '', 'x']],
    ['a partial last line', ['a\nrest'], ['a', 'rest']],
    ['nothing', [], []],
  ])('%s', (_name, chunks, expected) => {
    expect(split(chunks)).toEqual(expected);
  });

  it('cuts long lines, even arriving in pieces, and tells how long they were', () => {
    expect(split(['abcd', 'efgh', 'ij\nk\n'], 4)).toEqual([
      'abcd [line cut: 10 bytes, kept the first 4]',
      'k',
    ]);
  });

  it('keeps multi-byte characters that span chunks intact', () => {
    const bytes = Buffer.from('héllo\n');
    const lines: string[] = [];
    const splitter = createLineSplitter((l) => lines.push(l));
    splitter.push(bytes.subarray(0, 2));
    splitter.push(bytes.subarray(2));
    expect(lines).toEqual(['héllo']);
  });
});

describe('quoteCommandLine', () => {
  it('quotes only what a shell would mangle, for POSIX and Windows', () => {
    expect(
      quoteCommandLine(
        'blender',
        ['-b', '/a b/c.blend', "it's", '', '--python-expr', 'x=1;y'],
        'linux',
      ),
    ).toBe(`blender -b '/a b/c.blend' 'it'\\''s' '' --python-expr 'x=1;y'`);
    expect(
      quoteCommandLine('C:\\Blender\\blender.exe', ['C:\\my file.blend', 'say "hi"'], 'win32'),
    ).toBe('C:\\Blender\\blender.exe "C:\\my file.blend" "say ""hi"""');
  });
});
