import {
  parseAssignments,
  parseSetValues,
  typeSettingValue,
} from '../src/settings/parse-set-values';

const declared = [
  { key: 'frames', type: 'string' as const },
  { key: 'chunk', type: 'int32' as const },
  { key: 'fps', type: 'float' as const },
  { key: 'denoise', type: 'bool' as const },
];

describe('--set values', () => {
  it('are typed as the job type declares them', () => {
    const result = parseSetValues(declared, [
      'frames=1-250',
      'chunk=10',
      'fps=23.976',
      'denoise=yes',
      'extra=42',
    ]);
    expect(result.issues).toEqual([]);
    expect(result.settings).toEqual({
      frames: '1-250',
      chunk: 10,
      fps: 23.976,
      denoise: true,
      extra: '42',
    });
  });

  it('keep everything after the first "=" in the value', () => {
    expect(parseSetValues(declared, ['frames=a=b']).settings).toEqual({ frames: 'a=b' });
  });

  it('report every value that does not fit its type, at once', () => {
    const result = parseSetValues(declared, ['chunk=1.5', 'fps=fast', 'denoise=maybe', 'nokey']);
    expect(result.settings).toEqual({});
    expect(result.issues).toEqual([
      { path: '--set', message: 'expected key=value, got "nokey"' },
      { path: 'chunk', message: 'must be a whole number, got "1.5"' },
      { path: 'fps', message: 'must be a number, got "fast"' },
      { path: 'denoise', message: 'must be true or false, got "maybe"' },
    ]);
  });

  it('read booleans in the usual spellings', () => {
    for (const word of ['true', 'YES', 'on', '1']) {
      expect(typeSettingValue({ type: 'bool' }, word)).toEqual({ ok: true, value: true });
    }
    for (const word of ['false', 'No', 'off', '0']) {
      expect(typeSettingValue({ type: 'bool' }, word)).toEqual({ ok: true, value: false });
    }
  });

  it('accept signed whole numbers and exponents where they fit', () => {
    expect(typeSettingValue({ type: 'int32' }, '-5')).toEqual({ ok: true, value: -5 });
    expect(typeSettingValue({ type: 'float' }, '1e3')).toEqual({ ok: true, value: 1000 });
    expect(typeSettingValue({ type: 'float' }, '')).toMatchObject({ ok: false });
  });

  it('split metadata assignments the same way', () => {
    expect(parseAssignments(['shot=010', '=x'], '--meta')).toEqual({
      entries: [['shot', '010']],
      issues: [{ path: '--meta', message: 'expected key=value, got "=x"' }],
    });
  });
});
