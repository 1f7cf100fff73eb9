import fc from 'fast-check';
import { isFarmError, type FarmError } from '../errors';
import { expandVariables, expandVariablesStrict, MAX_VARIABLE_NESTING } from './expand-variables';
import { replaceTwoWayVariables } from './replace-two-way-variables';
import { resolveVariables } from './resolve-variables';
import type { VariablesConfig } from './variable-config';

const config: VariablesConfig = {
  render: {
    is_twoway: true,
    values: [
      { platform: 'linux', value: '/mnt/render' },
      { platform: 'windows', value: 'R:\\render' },
      { platform: 'darwin', value: '/Volumes/render' },
    ],
  },
  unc: {
    is_twoway: true,
    values: [
      { platform: 'windows', value: '//nas/projects' },
      { platform: 'linux', value: '/nas/projects' },
    ],
  },
  scripts: { values: [{ platform: 'all', value: '{render}/scripts' }] },
  python: { values: [{ platform: 'all', value: 'python3 {scripts}/run.py' }] },
  slashy: { values: [{ platform: 'all', value: 'a/b' }] },
  loopA: { values: [{ platform: 'all', value: 'x{loopB}' }] },
  loopB: { values: [{ platform: 'all', value: 'y{loopA}' }] },
  self: { values: [{ platform: 'all', value: '{self}!' }] },
  side: {
    values: [
      { platform: 'all', audience: 'workers', value: 'for-workers' },
      { platform: 'all', audience: 'users', value: 'for-users' },
    ],
  },
};
const vars = resolveVariables(config);

describe('expandVariables', () => {
  it.each<[string, string, string]>([
    ['linux', '{blender}', 'blender'],
    ['windows', '{blender}', 'blender.exe'],
    ['linux', '{blender} {blenderArgs}', 'blender -b -y'],
    ['linux', '{render}/shot/####.png', '/mnt/render/shot/####.png'],
    ['darwin', '{render}/shot', '/Volumes/render/shot'],
    ['linux', '{render}{render}', '/mnt/render/mnt/render'],
    ['linux', 'no placeholders', 'no placeholders'],
    ['linux', '{{render}}', '{render}'],
    ['linux', '{{{render}}}', '{/mnt/render}'],
    ['linux', 'a }} b {{', 'a } b {'],
    ['linux', 'lone } and { braces', 'lone } and { braces'],
    ['linux', "{'key': 1}", "{'key': 1}"],
    ['linux', '{C.scene.frame_start}', '{C.scene.frame_start}'],
    ['linux', '{ render }', '{ render }'],
    ['linux', '{render', '{render'],
    ['linux', '{side}', 'for-workers'],
    ['linux', '{scripts}/x.py', '/mnt/render/scripts/x.py'],
    ['linux', '{python} --fast', 'python3 /mnt/render/scripts/run.py --fast'],
  ])('on %s, %j expands to %j', (platform, input, output) => {
    const result = expandVariables(input, vars, { platform });
    expect(result.value).toBe(output);
    expect(result.unknown).toEqual([]);
  });

  it('does not rescan substituted text', () => {
    const braces = resolveVariables({ lit: { values: [{ platform: 'all', value: '{{x}}' }] } });
    // The value's own `{{` is an escape, expanded once, and the `{x}` it yields stays literal.
    expect(expandVariables('{lit}', braces, { platform: 'linux' })).toEqual({
      value: '{x}',
      unknown: [],
      cyclic: [],
    });
  });

  it.each<[string, string]>([
    // A string that starts with a two-way variable is a path throughout.
    ['{render}/shot/My Shot/####.png', 'R:\\render\\shot\\My Shot\\####.png'],
    ['{render}', 'R:\\render'],
    ['{unc}/film/a.blend', '\\\\nas\\projects\\film\\a.blend'],
    ['{render}/{slashy}/x', 'R:\\render\\a\\b\\x'],
    // Later in a string: the value and the path right after it, up to whitespace or a quote.
    ['--out={render}/a/b --vf scale=iw/2', '--out=R:\\render\\a\\b --vf scale=iw/2'],
    ['"{render}/a/b" c/d', '"R:\\render\\a\\b" c/d'],
    ['--python-expr \'open("{render}/x")\' a/b', '--python-expr \'open("R:\\render\\x")\' a/b'],
    // One-way text is the admin's own, for that platform, and is left as given.
    ['{slashy}/x', 'a/b/x'],
    ['{scripts}/x.py', 'R:\\render\\scripts\\x.py'],
    ['{python} a/b', 'python3 R:\\render\\scripts\\run.py a/b'],
    ['http://host/{blender}', 'http://host/blender.exe'],
  ])('for windows, %j becomes %j', (input, output) => {
    expect(expandVariables(input, vars, { platform: 'windows' }).value).toBe(output);
  });

  it('leaves forward slashes alone on linux and darwin', () => {
    expect(expandVariables('{render}/a/b', vars, { platform: 'linux' }).value).toBe(
      '/mnt/render/a/b',
    );
  });

  it('uses the workers audience by default, users on request', () => {
    expect(expandVariables('{side}', vars, { platform: 'linux' }).value).toBe('for-workers');
    expect(expandVariables('{side}', vars, { platform: 'linux', audience: 'users' }).value).toBe(
      'for-users',
    );
  });

  it('reports unknown names and leaves them in place', () => {
    const result = expandVariables(
      { exe: '{nope}', args: ['{render}/{alsoNope}', '{nope}'], n: 3 },
      vars,
      { platform: 'linux' },
    );
    expect(result).toEqual({
      value: { exe: '{nope}', args: ['/mnt/render/{alsoNope}', '{nope}'], n: 3 },
      unknown: ['alsoNope', 'nope'],
      cyclic: [],
    });
  });

  it('leaves ignored names alone without reporting them', () => {
    const result = expandVariables('{render}/f_{frame_start}-{frame_end}.png', vars, {
      platform: 'linux',
      ignore: ['frame_start', 'frame_end'],
    });
    expect(result).toEqual({
      value: '/mnt/render/f_{frame_start}-{frame_end}.png',
      unknown: [],
      cyclic: [],
    });
  });

  it('ignore wins over a defined variable of the same name', () => {
    expect(expandVariables('{render}', vars, { platform: 'linux', ignore: ['render'] }).value).toBe(
      '{render}',
    );
  });

  it('reports cycles instead of looping', () => {
    const result = expandVariables(['{loopA}', '{loopB}', '{self}'], vars, { platform: 'linux' });
    expect(result.value).toEqual(['xy{loopA}', 'yx{loopB}', '{self}!']);
    expect(result.cyclic).toEqual(['loopA', 'loopB', 'self']);
    expect(result.unknown).toEqual([]);
  });

  it('stops nesting beyond the limit', () => {
    const chain: VariablesConfig = {};
    for (let i = 0; i <= MAX_VARIABLE_NESTING; i++) {
      chain[`v${i}`] = {
        values: [{ platform: 'all', value: i === MAX_VARIABLE_NESTING ? 'end' : `{v${i + 1}}` }],
      };
    }
    const deep = resolveVariables(chain);
    expect(expandVariables('{v1}', deep, { platform: 'linux' })).toMatchObject({
      value: 'end',
      cyclic: [],
    });
    expect(expandVariables('{v0}', deep, { platform: 'linux' }).cyclic).toEqual([
      `v${MAX_VARIABLE_NESTING}`,
    ]);
  });

  it('walks command parameters without changing the input', () => {
    const params = {
      exe: '{blender}',
      exeArgs: '{blenderArgs}',
      argsBefore: [],
      blendfile: '{render}/a.blend',
      args: ['--render-output', '{render}/out/######', '--render-frame', '1..3'],
      nested: { list: [{ deep: '{blender}' }], count: 2, flag: false },
    };
    const copy = structuredClone(params);
    const { value } = expandVariables(params, vars, { platform: 'linux' });
    expect(params).toEqual(copy);
    expect(value).toEqual({
      exe: 'blender',
      exeArgs: '-b -y',
      argsBefore: [],
      blendfile: '/mnt/render/a.blend',
      args: ['--render-output', '/mnt/render/out/######', '--render-frame', '1..3'],
      nested: { list: [{ deep: 'blender' }], count: 2, flag: false },
    });
  });
});

describe('expandVariablesStrict', () => {
  function strictError(value: unknown, ignore?: string[]): FarmError {
    try {
      expandVariablesStrict(value, vars, { platform: 'linux', ignore });
    } catch (error) {
      if (isFarmError(error)) return error;
      throw error;
    }
    throw new Error('expected a throw');
  }

  it('returns the expanded value when everything is known', () => {
    expect(expandVariablesStrict(['{blender}', '{{x}}'], vars, { platform: 'windows' })).toEqual([
      'blender.exe',
      '{x}',
    ]);
  });

  it('throws a FarmError listing every unknown name and where it is', () => {
    const error = strictError({ exe: '{nope}', args: ['{other}', '{nope}'] });
    expect(error.code).toBe('validation_failed');
    expect(error.message).toMatch(/unknown variables \{nope\}, \{other\}/);
    expect(error.issues).toEqual([
      { path: '/exe', message: 'unknown variable {nope}' },
      { path: '/args/0', message: 'unknown variable {other}' },
      { path: '/args/1', message: 'unknown variable {nope}' },
    ]);
  });

  it('throws for cycles and accepts ignored names', () => {
    expect(strictError('{self}').message).toMatch(/refer to themselves \{self\}/);
    expect(expandVariablesStrict('{frame}', vars, { platform: 'linux', ignore: ['frame'] })).toBe(
      '{frame}',
    );
  });
});

describe('two-way round trip', () => {
  const segment = fc.stringMatching(/^[A-Za-z0-9 ._-]{1,8}$/);
  const tail = fc.array(segment, { maxLength: 4 });
  const roots = {
    linux: ['/mnt/render', '/mnt/render/shots', '/mnt/renderfarm', '/srv'],
    darwin: ['/Volumes/render', '/Volumes/render/shots', '/Volumes/renderfarm', '/srv'],
    windows: ['R:\\render', 'R:\\render\\shots', 'R:\\renderfarm', '\\\\srv\\share'],
  } as const;
  const platforms = ['linux', 'darwin', 'windows'] as const;
  const roundTripVars = resolveVariables(
    Object.fromEntries(
      ['render', 'shots', 'farm', 'srv'].map((name, i) => [
        name,
        {
          is_twoway: true,
          values: platforms.map((platform) => ({ platform, value: roots[platform][i]! })),
        },
      ]),
    ),
  );

  it('replacing then expanding for the same platform gives back the path', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...platforms),
        fc.nat(3),
        tail,
        fc.boolean(),
        (platform, rootIndex, parts, backslashes) => {
          const windows = platform === 'windows';
          const separator = windows && backslashes ? '\\' : '/';
          const original = [roots[platform][rootIndex]!, ...parts].join(separator);
          const stored = replaceTwoWayVariables({ p: original }, roundTripVars, { platform });
          expect(stored.replacements).toHaveLength(1);
          expect(stored.value.p).not.toMatch(/\\/);
          const back = expandVariablesStrict(stored.value, roundTripVars, { platform });
          const normalise = (p: string): string => (windows ? p.replace(/\//g, '\\') : p);
          expect(back.p).toBe(normalise(original));
        },
      ),
    );
  });

  it('a path stored from one platform expands to the same place on another', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...platforms),
        fc.constantFrom(...platforms),
        fc.nat(3),
        tail,
        (from, to, rootIndex, parts) => {
          const original = [roots[from][rootIndex]!, ...parts].join(
            from === 'windows' ? '\\' : '/',
          );
          const stored = replaceTwoWayVariables(original, roundTripVars, { platform: from }).value;
          const expected = [roots[to][rootIndex]!, ...parts].join(to === 'windows' ? '\\' : '/');
          expect(expandVariablesStrict(stored, roundTripVars, { platform: to })).toBe(expected);
        },
      ),
    );
  });
});
