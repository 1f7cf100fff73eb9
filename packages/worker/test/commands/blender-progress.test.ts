import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  countRenderFrames,
  createBlenderProgress,
  parseBlenderLine,
  type BlenderLineEvent,
} from '../../src/commands';

const fixture = (name: string): string[] =>
  readFileSync(path.join(__dirname, '../fixtures', name), 'utf8').split('\n');

describe('parseBlenderLine', () => {
  it.each<[string, string, BlenderLineEvent | undefined]>([
    // Printed by Debian's Blender 3.4.1 (Cycles):
    [
      'Cycles status line',
      'Fra:1 Mem:9.04M (Peak 10.83M) | Time:00:00.00 | Mem:0.00M, Peak:0.00M | Scene, ViewLayer | Synchronizing object | Cube',
      { kind: 'frame', frame: 1 },
    ],
    [
      'Cycles sample line',
      'Fra:12 Mem:9.94M (Peak 10.83M) | Time:00:00.14 | Remaining:00:00.02 | Mem:0.79M, Peak:0.79M | Scene, ViewLayer | Sample 1/8',
      { kind: 'frame', frame: 12, samplesDone: 1, samplesTotal: 8 },
    ],
    [
      'Cycles last sample',
      'Fra:1 Mem:9.96M (Peak 10.83M) | Time:00:00.14 | Mem:0.79M, Peak:0.79M | Scene, ViewLayer | Sample 8/8',
      { kind: 'frame', frame: 1, samplesDone: 8, samplesTotal: 8 },
    ],
    // Printed by Debian's Blender 3.4.1 (EEVEE):
    [
      'EEVEE sync line',
      'Fra:1 Mem:10.75M (Peak 11.87M) | Time:00:01.35 | Syncing Cube',
      { kind: 'frame', frame: 1 },
    ],
    [
      'EEVEE sample line',
      'Fra:2 Mem:10.76M (Peak 11.87M) | Time:00:01.89 | Rendering 3 / 4 samples',
      { kind: 'frame', frame: 2, samplesDone: 3, samplesTotal: 4 },
    ],
    [
      'Saved line',
      "Saved: '/tmp/bl/out_cycles/0001.png'",
      { kind: 'saved', path: '/tmp/bl/out_cycles/0001.png' },
    ],
    [
      'Saved line with spaces and quotes in the path',
      "Saved: '/render/my shot/it's/0010.exr'",
      { kind: 'saved', path: "/render/my shot/it's/0010.exr" },
    ],
    [
      'missing blend file (Blender still exits 0)',
      "Error: Cannot read file '/nonexist.blend': No such file or directory",
      { kind: 'fatal', message: "Cannot read file '/nonexist.blend': No such file or directory" },
    ],
    [
      'not a blend file',
      "Error: File format is not supported in file '/tmp/notblend.blend'",
      { kind: 'fatal', message: "File format is not supported in file '/tmp/notblend.blend'" },
    ],
    // Hand-written in the forms other Blender versions print (not captured from a binary here):
    [
      'Cycles 2.9x tiles',
      'Fra:5 Mem:50.00M (Peak 60.00M) | Time:00:01.00 | Remaining:00:10.00 | Mem:10.00M, Peak:10.00M | Scene, View Layer | Path Tracing Tile 3/4, Sample 16/64',
      { kind: 'frame', frame: 5, samplesDone: 16, samplesTotal: 64 },
    ],
    [
      'EEVEE 4.2 (EEVEE Next)',
      'Fra:7 Mem:120.00M (Peak 130.00M) | Time:00:02.00 | Rendering 32 / 64 samples',
      { kind: 'frame', frame: 7, samplesDone: 32, samplesTotal: 64 },
    ],
    ['movie output', 'Append frame 3', { kind: 'appended', frame: 3 }],
    ['timing line', ' Time: 00:00.42 (Saving: 00:00.27)', undefined],
    ['banner', 'Blender 3.4.1', undefined],
    ['quit', 'Blender quit', undefined],
    ['EGL noise', 'EGL Error (0x3001): EGL_NOT_INITIALIZED: EGL is not initialized', undefined],
    ['a Python print that mentions Fra:', 'print says Fra:1 Sample 1/2', undefined],
  ])('%s', (_name, line, expected) => {
    expect(parseBlenderLine(line)).toEqual(expected);
  });
});

describe('countRenderFrames', () => {
  it.each<[string[], number | undefined]>([
    [['--render-frame', '1..10'], 10],
    [['-f', '7'], 1],
    [['--render-frame', '1,3,5..8'], 6],
    [['-f', '1', '-f', '3..4'], 3],
    [['--render-frame', '+0..+4'], 5],
    [['--render-frame', '1..-1'], undefined],
    [['-s', '10', '-e', '19', '-a'], 10],
    [['-s', '1', '-e', '10', '-j', '3', '-a'], 4],
    [['-a'], undefined],
    [['--python-expr', 'x'], 1],
  ])('%j renders %s frames', (args, expected) => {
    expect(countRenderFrames(args)).toBe(expected);
  });
});

describe('createBlenderProgress', () => {
  function replay(lines: string[], totalFrames: number | undefined) {
    const tracker = createBlenderProgress(totalFrames);
    return lines.flatMap((line) => {
      const event = parseBlenderLine(line);
      const update = event && tracker.update(event);
      return update ? [update] : [];
    });
  }

  it('follows real Cycles output over a 3-frame chunk', () => {
    const updates = replay(fixture('blender-3.4.1-cycles-frames-1-3.txt'), 3);
    const fractions = updates.map((u) => u.fraction!);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
    expect(updates).toContainEqual({
      fraction: 1 / 3 + 1 / 24,
      activity: 'frame 2 (2 of 3), sample 1/8',
      stepsDone: 1,
    });
    expect(updates).toContainEqual({
      fraction: 1 / 3,
      activity: 'frame 1 (1 of 3), saved',
      stepsDone: 1,
    });
    expect(updates.at(-1)).toEqual({
      fraction: 1,
      activity: 'frame 3 (3 of 3), saved',
      stepsDone: 3,
    });
  });

  it('follows real EEVEE output', () => {
    const updates = replay(fixture('blender-3.4.1-eevee-frames-1-2.txt'), 2);
    expect(updates).toContainEqual({
      fraction: 0.125,
      activity: 'frame 1 (1 of 2), sample 1/4',
      stepsDone: 0,
    });
    expect(updates.at(-1)).toEqual({
      fraction: 1,
      activity: 'frame 2 (2 of 2), saved',
      stepsDone: 2,
    });
  });

  it('counts Saved lines alone (Workbench prints no Fra: lines) and handles an unknown total', () => {
    expect(replay(["Saved: '/r/0001.png'", "Saved: '/r/0002.png'"], 2).at(-1)).toEqual({
      fraction: 1,
      activity: '2 frames saved',
      stepsDone: 2,
    });
    expect(replay(['Fra:4 Mem:1M | Sample 2/4'], undefined)).toEqual([
      { activity: 'frame 4, sample 2/4', stepsDone: 0 },
    ]);
  });

  it('counts a frame once even when it saves several images', () => {
    const updates = replay(
      ['Fra:1 Mem:1M | Sample 4/4', "Saved: '/r/L/0001.png'", "Saved: '/r/R/0001.png'"],
      2,
    );
    expect(updates.at(-1)).toMatchObject({ fraction: 0.5, stepsDone: 1 });
  });
});
