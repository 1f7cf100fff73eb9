import { scriptPath as path } from './script-path';

describe('scriptPath', () => {
  it.each<[string, string]>([
    ['/render/shot/frame.png', 'frame.png'],
    ['C:\\render\\shot\\frame.png', 'frame.png'],
    ['/render/shot/', 'shot'],
    ['frame.png', 'frame.png'],
    ['//server/share/file.blend', 'file.blend'],
    ['\\\\server\\share\\file.blend', 'file.blend'],
    ['C:\\', ''],
    ['/', ''],
    ['', ''],
    ['{jobs}/a/b.blend', 'b.blend'],
  ])('basename(%j) is %j', (p, expected) => {
    expect(path.basename(p)).toBe(expected);
  });

  it.each<[string, string]>([
    ['/render/shot/frame.png', '/render/shot'],
    ['/render/shot/', '/render'],
    ['/render', '/'],
    ['/', '/'],
    ['frame.png', '.'],
    ['', '.'],
    ['a/b', 'a'],
    ['C:\\render\\shot\\frame.png', 'C:/render/shot'],
    ['C:\\render', 'C:/'],
    ['C:\\', 'C:/'],
    ['C:file', 'C:'],
    ['//server/share/dir/file', '//server/share/dir'],
    ['\\\\server\\share\\file', '//server/share'],
    ['//server/share', '//server'],
    ['//server', '//server'],
    ['/render//shot///frame.png', '/render/shot'],
    ['{jobs}/abc/file.blend', '{jobs}/abc'],
  ])('dirname(%j) is %j', (p, expected) => {
    expect(path.dirname(p)).toBe(expected);
  });

  it.each<[string[], string]>([
    [['/render', 'shot', 'frame.png'], '/render/shot/frame.png'],
    [['/render/', '/shot/', 'frame.png'], '/render/shot/frame.png'],
    [['C:\\render', 'shot\\x', 'f.png'], 'C:/render/shot/x/f.png'],
    [['c:/', 'out'], 'c:/out'],
    [['//server/share', 'dir'], '//server/share/dir'],
    [['\\\\server\\share', 'dir'], '//server/share/dir'],
    [['a', '', 'b'], 'a/b'],
    [['a', '.', 'b'], 'a/b'],
    [['a/b', '../c'], 'a/c'],
    [['../a', 'b'], '../a/b'],
    [['..', '..', 'a'], '../../a'],
    [['/a', '../../b'], '/b'],
    [['//server/share', '../../x'], '//server/x'],
    [['a', '..'], '.'],
    [[], '.'],
    [['{jobs}', 'x.blend'], '{jobs}/x.blend'],
    [
      ['/render', 'shot__intermediate-2024-01-01_000000', '######'],
      '/render/shot__intermediate-2024-01-01_000000/######',
    ],
  ])('join(%j) is %j', (parts, expected) => {
    expect(path.join(...parts)).toBe(expected);
  });

  it.each<[string, string]>([
    ['/a/shot.blend', 'shot'],
    ['C:\\a\\shot.v2.blend', 'shot.v2'],
    ['shot.flamenco.blend', 'shot.flamenco'],
    ['noext', 'noext'],
    ['.hidden', '.hidden'],
    ['/a/dir.d/', 'dir'],
    ['file.', 'file'],
  ])('stem(%j) is %j', (p, expected) => {
    expect(path.stem(p)).toBe(expected);
  });

  it('cannot be changed by a job script', () => {
    expect(Object.isFrozen(path)).toBe(true);
  });
});
