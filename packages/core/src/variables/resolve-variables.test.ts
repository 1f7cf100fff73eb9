import { isFarmError, type FarmError } from '../errors';
import { resolveVariables } from './resolve-variables';
import { DEFAULT_VARIABLES, type VariablesConfig } from './variable-config';

function resolveError(config: unknown, implicit?: Record<string, string>): FarmError {
  try {
    resolveVariables(config as VariablesConfig, { implicit });
  } catch (error) {
    if (isFarmError(error)) return error;
    throw error;
  }
  throw new Error('expected resolveVariables to throw');
}

const config: VariablesConfig = {
  render: {
    is_twoway: true,
    values: [
      { platform: 'linux', value: '/mnt/render/' },
      { platform: 'windows', value: 'R:\\render\\' },
      { platform: 'darwin', value: '/Volumes/render' },
    ],
  },
  ffmpeg: {
    values: [
      { platform: 'windows', value: 'ffmpeg.exe' },
      { platform: 'all', value: 'ffmpeg' },
    ],
  },
  tool: {
    values: [
      { platforms: ['linux', 'darwin'], audience: 'workers', value: '/opt/tool-worker' },
      { platforms: ['linux', 'darwin'], audience: 'users', value: '/opt/tool-user' },
      { platform: 'windows', audience: 'all', value: 'C:\\tool' },
    ],
  },
  layered: {
    values: [
      { platform: 'all', audience: 'all', value: 'any' },
      { platform: 'all', audience: 'workers', value: 'any-workers' },
      { platform: 'linux', value: 'linux' },
      { platform: 'linux', audience: 'users', value: 'linux-users' },
    ],
  },
};

describe('resolveVariables', () => {
  const vars = resolveVariables(config);

  it.each<[string, 'workers' | 'users', string, string | undefined]>([
    ['render', 'workers', 'linux', '/mnt/render'],
    ['render', 'users', 'windows', 'R:\\render'],
    ['render', 'workers', 'darwin', '/Volumes/render'],
    ['render', 'workers', 'freebsd', undefined],
    ['ffmpeg', 'workers', 'windows', 'ffmpeg.exe'],
    ['ffmpeg', 'users', 'linux', 'ffmpeg'],
    ['ffmpeg', 'workers', 'freebsd', 'ffmpeg'],
    ['tool', 'workers', 'linux', '/opt/tool-worker'],
    ['tool', 'users', 'darwin', '/opt/tool-user'],
    ['tool', 'users', 'windows', 'C:\\tool'],
    ['tool', 'workers', 'windows', 'C:\\tool'],
    ['layered', 'workers', 'linux', 'linux'],
    ['layered', 'users', 'linux', 'linux-users'],
    ['layered', 'workers', 'darwin', 'any-workers'],
    ['layered', 'users', 'darwin', 'any'],
    ['blender', 'workers', 'linux', 'blender'],
    ['blender', 'users', 'darwin', 'blender'],
    ['blender', 'workers', 'windows', 'blender.exe'],
    ['blenderArgs', 'workers', 'windows', '-b -y'],
  ])('%s for %s on %s is %j', (name, audience, platform, expected) => {
    expect(vars.lookup(audience, platform)[name]?.value).toBe(expected);
  });

  it('marks two-way variables and strips their trailing separators only', () => {
    const linux = vars.lookup('workers', 'linux');
    expect(linux.render).toEqual({ value: '/mnt/render', isTwoWay: true });
    expect(linux.ffmpeg).toEqual({ value: 'ffmpeg', isTwoWay: false });
    const oneWay = resolveVariables({ dir: { values: [{ platform: 'all', value: '/x/' }] } });
    expect(oneWay.lookup('users', 'linux').dir!.value).toBe('/x/');
  });

  it('lets a wildcard come before or after the specific value', () => {
    const before = resolveVariables({
      v: {
        values: [
          { platform: 'all', value: 'generic' },
          { platform: 'linux', value: 'specific' },
        ],
      },
    });
    const after = resolveVariables({
      v: {
        values: [
          { platform: 'linux', value: 'specific' },
          { platform: 'all', value: 'generic' },
        ],
      },
    });
    for (const v of [before, after]) {
      expect(v.lookup('workers', 'linux').v!.value).toBe('specific');
      expect(v.lookup('workers', 'windows').v!.value).toBe('generic');
    }
  });

  it('keeps the defaults unless configured, and replaces them whole when configured', () => {
    expect(resolveVariables(undefined).names).toEqual(['blender', 'blenderArgs', 'ffmpeg']);
    const custom = resolveVariables({
      blender: { values: [{ platform: 'linux', value: '/opt/blender/blender' }] },
    });
    expect(custom.lookup('workers', 'linux').blender!.value).toBe('/opt/blender/blender');
    expect(custom.lookup('workers', 'windows').blender).toBeUndefined();
    expect(custom.lookup('workers', 'windows').blenderArgs!.value).toBe('-b -y');
    expect(Object.isFrozen(DEFAULT_VARIABLES.blender!.values[0])).toBe(true);
  });

  it('adds implicit variables for every platform and audience, overriding configured ones', () => {
    const withJobs = resolveVariables(
      { jobs: { values: [{ platform: 'linux', value: '/configured' }] } },
      { implicit: { jobs: '/srv/farm/jobs' } },
    );
    expect(withJobs.lookup('workers', 'windows').jobs).toEqual({
      value: '/srv/farm/jobs',
      isTwoWay: false,
    });
    expect(withJobs.lookup('users', 'linux').jobs!.value).toBe('/srv/farm/jobs');
    expect(withJobs.warnings.join()).toMatch(/"jobs" is defined by the manager itself/);
  });

  it('returns a fresh object from lookup', () => {
    const first = vars.lookup('workers', 'linux');
    first.render!.value = 'changed';
    delete first.ffmpeg;
    expect(vars.lookup('workers', 'linux').render!.value).toBe('/mnt/render');
    expect(vars.lookup('workers', 'linux').ffmpeg).toBeDefined();
  });

  it('accepts both platform and platforms, with a warning', () => {
    const both = resolveVariables({
      v: { values: [{ platform: 'linux', platforms: ['darwin'], value: 'x' }] },
    });
    expect(both.lookup('workers', 'linux').v!.value).toBe('x');
    expect(both.lookup('workers', 'darwin').v!.value).toBe('x');
    expect(both.warnings).toEqual([expect.stringMatching(/both "platform" and "platforms"/)]);
  });

  it.each<[string, unknown, string, RegExp]>([
    [
      'no platform',
      { v: { values: [{ value: 'x' }] } },
      'variables.v.values[0].platform',
      /needs a platform/,
    ],
    [
      'empty platform',
      { v: { values: [{ platform: null, value: 'x' }] } },
      'variables.v.values[0].platform',
      /needs a platform/,
    ],
    [
      'empty platforms',
      { v: { values: [{ platforms: [], value: 'x' }] } },
      'variables.v.values[0].platform',
      /needs a platform/,
    ],
    [
      'unknown platform',
      { v: { values: [{ platform: 'amiga', value: 'x' }] } },
      'variables.v.values[0].platform',
      /unknown platform "amiga"/,
    ],
    [
      'unknown platform in list',
      { v: { values: [{ platforms: ['linux', 'Win'], value: 'x' }] } },
      'variables.v.values[0].platforms[1]',
      /unknown platform "Win"/,
    ],
    [
      'unknown audience',
      { v: { values: [{ platform: 'all', audience: 'admins', value: 'x' }] } },
      'variables.v.values[0].audience',
      /unknown audience "admins"/,
    ],
    [
      'bad name',
      { '9lives': { values: [{ platform: 'all', value: 'x' }] } },
      'variables.9lives',
      /not a valid variable name/,
    ],
    [
      'name with a dot',
      { 'a.b': { values: [{ platform: 'all', value: 'x' }] } },
      'variables.a.b',
      /not a valid variable name/,
    ],
    [
      'value not a string',
      { v: { values: [{ platform: 'all', value: 5 }] } },
      'variables.v.values[0].value',
      /must be a string/,
    ],
    ['no values', { v: { values: [] } }, 'variables.v.values', /non-empty list/],
    [
      'old direction key',
      { v: { direction: 'twoway', values: [{ platform: 'all', value: 'x' }] } },
      'variables.v.direction',
      /use "is_twoway: true"/,
    ],
    [
      'is_twoway not boolean',
      { v: { is_twoway: 'yes', values: [{ platform: 'all', value: 'x' }] } },
      'variables.v.is_twoway',
      /true or false/,
    ],
    [
      'two-way root',
      { v: { is_twoway: true, values: [{ platform: 'linux', value: '/' }] } },
      'variables.v.values[0].value',
      /match every path/,
    ],
    [
      'duplicate cell',
      {
        v: {
          values: [
            { platform: 'linux', value: 'a' },
            { platforms: ['linux'], value: 'b' },
          ],
        },
      },
      'variables.v.values[1].value',
      /already has a value \(from variables.v.values\[0\]\)/,
    ],
  ])('refuses %s', (_name, bad, path, message) => {
    const error = resolveError(bad);
    expect(error.code).toBe('validation_failed');
    expect(error.issues).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  it('collects every problem into one error with paths', () => {
    const error = resolveError({
      blender: {
        values: [
          { platform: 'linux', value: 'blender' },
          { platform: 'beos', value: 'x' },
          { value: 'y' },
        ],
      },
      'bad name': { values: [{ platform: 'all', value: 'x' }] },
      ok: { values: [{ platform: 'all', audience: 'everyone', value: 'x' }] },
    });
    expect(error.issues.map((i) => i.path)).toEqual([
      'variables.blender.values[1].platform',
      'variables.blender.values[2].platform',
      'variables.bad name',
      'variables.ok.values[0].audience',
    ]);
    expect(error.message).toMatch(/4 problems/);
    expect(error.message).toContain(
      'variables.blender.values[1].platform: unknown platform "beos"',
    );
  });

  it('refuses a config that is not a mapping', () => {
    expect(resolveError(['x']).issues[0]!.path).toBe('variables');
  });
});
