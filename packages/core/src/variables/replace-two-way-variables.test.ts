import { replaceTwoWayVariables } from './replace-two-way-variables';
import { resolveVariables } from './resolve-variables';

const vars = resolveVariables({
  render: {
    is_twoway: true,
    values: [
      { platform: 'linux', value: '/mnt/render' },
      { platform: 'windows', value: 'C:\\render' },
      { platform: 'darwin', value: '/Volumes/render' },
    ],
  },
  // Overlaps `render`: the longer, more specific prefix must win whatever the config order.
  shots: {
    is_twoway: true,
    values: [
      { platform: 'linux', value: '/mnt/render/shots' },
      { platform: 'windows', value: 'C:\\render\\shots' },
    ],
  },
  // Same value as `render` on linux, to show ties are broken by name.
  alpha: { is_twoway: true, values: [{ platform: 'linux', value: '/mnt/render' }] },
  unc: { is_twoway: true, values: [{ platform: 'windows', value: '\\\\nas\\projects' }] },
  oneway: { values: [{ platform: 'all', value: '/mnt' }] },
  audience: {
    is_twoway: true,
    values: [
      { platform: 'linux', audience: 'workers', value: '/farm/side' },
      { platform: 'linux', audience: 'users', value: '/home/me/side' },
    ],
  },
});

describe('replaceTwoWayVariables', () => {
  it.each<[string, string, string]>([
    ['linux', '/mnt/render/a/b.png', '{alpha}/a/b.png'],
    ['linux', '/mnt/render', '{alpha}'],
    ['linux', '/mnt/render/shots/010/x.exr', '{shots}/010/x.exr'],
    ['linux', '/mnt/render/shotsX/x', '{alpha}/shotsX/x'],
    ['linux', '/mnt/renderfarm/x', '/mnt/renderfarm/x'],
    ['linux', '/MNT/render/x', '/MNT/render/x'],
    ['linux', 'prefix /mnt/render/x', 'prefix /mnt/render/x'],
    ['linux', '/mnt/other', '/mnt/other'],
    ['darwin', '/Volumes/render/x', '{render}/x'],
    ['windows', 'C:\\render\\x\\y.png', '{render}/x/y.png'],
    ['windows', 'c:/render/x', '{render}/x'],
    ['windows', 'C:\\Render\\x', '{render}/x'],
    ['windows', 'C:/RENDER', '{render}'],
    ['windows', 'C:\\render\\shots\\010', '{shots}/010'],
    ['windows', 'c:\\RENDER\\Shots\\010', '{shots}/010'],
    ['windows', 'C:\\renderfarm\\x', 'C:\\renderfarm\\x'],
    ['windows', 'D:\\render\\x', 'D:\\render\\x'],
    ['windows', '\\\\nas\\projects\\film\\a.blend', '{unc}/film/a.blend'],
    ['windows', '//NAS/Projects/film', '{unc}/film'],
    ['freebsd', '/mnt/render/x', '/mnt/render/x'],
  ])('on %s, %j becomes %j', (platform, input, output) => {
    expect(replaceTwoWayVariables(input, vars, { platform }).value).toBe(output);
  });

  it('uses the users audience by default (Flamenco used the workers values)', () => {
    expect(replaceTwoWayVariables('/home/me/side/x', vars, { platform: 'linux' }).value).toBe(
      '{audience}/x',
    );
    expect(replaceTwoWayVariables('/farm/side/x', vars, { platform: 'linux' }).value).toBe(
      '/farm/side/x',
    );
    expect(
      replaceTwoWayVariables('/farm/side/x', vars, { platform: 'linux', audience: 'workers' })
        .value,
    ).toBe('{audience}/x');
  });

  it('never touches one-way variables', () => {
    expect(replaceTwoWayVariables('/mnt/x', vars, { platform: 'linux' }).replacements).toEqual([]);
  });

  it('gives the same answer whatever order the config lists overlapping variables in', () => {
    const values = [
      { platform: 'linux' as const, value: '/a' },
      { platform: 'linux' as const, value: '/a/b' },
    ];
    const orders = [
      {
        short: { is_twoway: true, values: [values[0]!] },
        long: { is_twoway: true, values: [values[1]!] },
      },
      {
        long: { is_twoway: true, values: [values[1]!] },
        short: { is_twoway: true, values: [values[0]!] },
      },
    ];
    for (const config of orders) {
      const result = replaceTwoWayVariables('/a/b/c', resolveVariables(config), {
        platform: 'linux',
      });
      expect(result.value).toBe('{long}/c');
    }
  });

  it('walks nested settings and metadata, reports each replacement and leaves the input alone', () => {
    const submitted = {
      settings: {
        blendfile: '/mnt/render/shots/a.blend',
        outputs: ['/mnt/render/out', 'relative/out', 7],
        nested: { deep: { path: '/mnt/render' } },
        frames: '1-10',
        fps: 24,
        enabled: true,
        nothing: null,
      },
      metadata: { 'project/dir': '/mnt/render/p' },
    };
    const copy = structuredClone(submitted);
    const result = replaceTwoWayVariables(submitted, vars, { platform: 'linux' });
    expect(submitted).toEqual(copy);
    expect(result.value).toEqual({
      settings: {
        blendfile: '{shots}/a.blend',
        outputs: ['{alpha}/out', 'relative/out', 7],
        nested: { deep: { path: '{alpha}' } },
        frames: '1-10',
        fps: 24,
        enabled: true,
        nothing: null,
      },
      metadata: { 'project/dir': '{alpha}/p' },
    });
    expect(result.replacements).toEqual([
      {
        pointer: '/settings/blendfile',
        variable: 'shots',
        before: '/mnt/render/shots/a.blend',
        after: '{shots}/a.blend',
      },
      {
        pointer: '/settings/outputs/0',
        variable: 'alpha',
        before: '/mnt/render/out',
        after: '{alpha}/out',
      },
      {
        pointer: '/settings/nested/deep/path',
        variable: 'alpha',
        before: '/mnt/render',
        after: '{alpha}',
      },
      {
        pointer: '/metadata/project~1dir',
        variable: 'alpha',
        before: '/mnt/render/p',
        after: '{alpha}/p',
      },
    ]);
  });

  it('keeps a __proto__ key as data', () => {
    const input = JSON.parse('{"__proto__": "/mnt/render/x"}') as Record<string, unknown>;
    const result = replaceTwoWayVariables(input, vars, { platform: 'linux' }).value;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toBe('{alpha}/x');
  });
});
