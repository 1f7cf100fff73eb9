import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  buildConcatList,
  buildFramesToVideoCommand,
  expandGlob,
  parseFfmpegFrame,
  runCommand,
} from '../../src/commands';
import { createRecordingContext } from '../fixtures/command-context';
import { findProgram, makeTempDir } from '../fixtures/processes';

const params = {
  exe: 'ffmpeg -hide_banner',
  exeArgs: '-loglevel "level+info"',
  fps: 24,
  inputGlob: '/render/shot/*.png',
  outputFile: '/render/shot.mp4',
  argsBefore: ['-y'],
  args: ['-c:v', 'libx264'],
};

describe('buildFramesToVideoCommand', () => {
  it('uses a glob input on POSIX', () => {
    expect(buildFramesToVideoCommand(params, { platform: 'linux' })).toEqual({
      exe: 'ffmpeg',
      args: [
        '-hide_banner',
        '-loglevel',
        'level+info',
        '-y',
        '-r',
        '24',
        '-pattern_type',
        'glob',
        '-i',
        '/render/shot/*.png',
        '-c:v',
        'libx264',
        '-r',
        '24',
        '/render/shot.mp4',
      ],
    });
  });

  it('uses a concat list on Windows', () => {
    expect(
      buildFramesToVideoCommand(
        { ...params, fps: 29.97 },
        { platform: 'win32', listFile: 'C:\\tmp\\list.txt' },
      ),
    ).toEqual({
      exe: 'ffmpeg',
      args: [
        '-hide_banner',
        '-loglevel',
        'level+info',
        '-y',
        '-f',
        'concat',
        '-safe',
        '0',
        '-i',
        'C:\\tmp\\list.txt',
        '-c:v',
        'libx264',
        '-r',
        '29.97',
        '/render/shot.mp4',
      ],
    });
    expect(() => buildFramesToVideoCommand(params, { platform: 'win32' })).toThrow('concat list');
  });

  it('writes the concat list sorted, one decimal duration per frame, quotes escaped', () => {
    expect(buildConcatList(["C:\\r\\b'2.png", 'C:\\r\\a1.png'], 25)).toBe(
      "file 'C:\\r\\a1.png'\nduration 0.04\nfile 'C:\\r\\b'\\''2.png'\nduration 0.04\n",
    );
  });

  it('reads the frame number of FFmpeg status lines', () => {
    expect(parseFfmpegFrame('frame=  123 fps=0.0 q=-1.0 Lsize=       3kB time=00:00:00.08')).toBe(
      123,
    );
    expect(parseFfmpegFrame('  Stream #0:0: Video: png')).toBeUndefined();
  });
});

describe('expandGlob', () => {
  it('matches like glob(3), sorted, skipping dot files', async () => {
    const dir = makeTempDir('glob');
    for (const name of ['b_0002.png', 'a_0001.png', '.hidden.png', 'c.jpg', 'x[1].png']) {
      execFileSync('touch', [path.join(dir, name)]);
    }
    expect(await expandGlob(path.join(dir, '*.png'), '/')).toEqual(
      ['a_0001.png', 'b_0002.png', 'x[1].png'].map((n) => path.join(dir, n)),
    );
    expect(await expandGlob('?_000[!1].png', dir)).toEqual([path.join(dir, 'b_0002.png')]);
    expect(await expandGlob(path.join(dir, 'nothing-*'), '/')).toEqual([]);
  });
});

const ffmpeg = findProgram('ffmpeg');
const ffprobe = findProgram('ffprobe');
if (!ffmpeg || !ffprobe)
  console.warn('frames-to-video with real FFmpeg: skipped, ffmpeg/ffprobe not on PATH');

(ffmpeg && ffprobe ? describe : describe.skip)('frames-to-video with real FFmpeg', () => {
  let frames: string;
  beforeAll(() => {
    frames = makeTempDir('frames');
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x64:rate=1',
      '-frames:v',
      '5',
      path.join(frames, 'frame_%04d.png'),
    ]);
    expect(readdirSync(frames)).toHaveLength(5);
  });

  const countFrames = (file: string): number =>
    Number(
      execFileSync(
        'ffprobe',
        [
          '-v',
          'error',
          '-count_frames',
          '-select_streams',
          'v:0',
          '-show_entries',
          'stream=nb_read_frames',
          '-of',
          'csv=p=0',
          file,
        ],
        { encoding: 'utf8' },
      ).trim(),
    );

  it.each(['linux', 'win32'] as const)(
    'encodes 5 PNG frames into an MP4 (%s input style)',
    async (platform) => {
      const out = makeTempDir('video');
      const ctx = createRecordingContext(out, { platform });
      const outputFile = path.join(out, 'preview.mp4');
      await runCommand(
        {
          name: 'frames-to-video',
          parameters: {
            exe: 'ffmpeg',
            exeArgs: '-hide_banner',
            fps: 24,
            inputGlob: path.join(frames, '*.png'),
            outputFile,
            args: ['-c:v', 'libx264', '-pix_fmt', 'yuv420p'],
          },
        },
        ctx,
      );
      expect(existsSync(outputFile)).toBe(true);
      expect(countFrames(outputFile)).toBe(5);
      expect(ctx.lines[0]).toBe(
        `frames-to-video: 5 input images match ${path.join(frames, '*.png')}`,
      );
      expect(ctx.lines[1]).toMatch(/^going to run: ffmpeg -hide_banner /);
      expect(ctx.updates.at(-1)).toEqual({ fraction: 1, activity: 'encoding frame 5 of 5' });
      // The concat list of the Windows style is cleaned up.
      expect(readdirSync(out)).toEqual(['preview.mp4']);
    },
  );

  it('fails clearly when no image matches, and when FFmpeg fails', async () => {
    const out = makeTempDir('video');
    const ctx = createRecordingContext(out);
    const base = { exe: 'ffmpeg', fps: 24, outputFile: path.join(out, 'x.mp4') };
    await expect(
      runCommand(
        { name: 'frames-to-video', parameters: { ...base, inputGlob: path.join(out, '*.png') } },
        ctx,
      ),
    ).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('no files match'),
    });
    await expect(
      runCommand(
        {
          name: 'frames-to-video',
          parameters: {
            ...base,
            inputGlob: path.join(frames, '*.png'),
            args: ['-c:v', 'no-such-codec'],
          },
        },
        ctx,
      ),
    ).rejects.toMatchObject({ message: expect.stringMatching(/^ffmpeg exited with code \d+$/) });
    expect(ctx.lines.some((l) => l.includes('no-such-codec'))).toBe(true);
  });
});
