import { performance } from 'node:perf_hooks';
import { isFarmError } from '../errors';
import { compileJob, listJobTypes, loadJobType, type CompiledJob } from '.';

describe('bundled job types', () => {
  it('are listed with their settings and etags', () => {
    const types = listJobTypes();
    expect(types.map((t) => t.name)).toEqual([
      'echo-sleep-test',
      'ffmpeg-encode',
      'shell-frames',
      'simple-blender-render',
    ]);
    for (const info of types) {
      expect(info.etag).toMatch(/^[0-9a-f]{32}$/);
      expect(info.label).toBeTruthy();
      expect(info.settings.length).toBeGreaterThan(0);
    }
  });
});

describe('echo-sleep-test', () => {
  const jobType = loadJobType('echo-sleep-test');

  it('gives an echo task and one sleep task per repeat, each waiting for the echo', () => {
    const job = compileJob(jobType, {
      name: 'x',
      type: 'echo-sleep-test',
      settings: { message: 'hi', sleep_duration_seconds: 1, sleep_repeats: 3 },
    });
    expect(job.tasks).toHaveLength(4);
    expect(job.tasks[0]).toMatchObject({
      name: 'echo',
      type: 'misc',
      commands: [{ name: 'echo', parameters: { message: 'hi' } }],
      dependsOn: [],
    });
    expect(job.tasks.slice(1).map((t) => [t.name, t.type, t.dependsOn, t.commands])).toEqual(
      [1, 2, 3].map((n) => [
        `sleep-${n}`,
        'misc',
        [0],
        [{ name: 'sleep', parameters: { duration_in_seconds: 1 } }],
      ]),
    );
  });

  it('applies the defaults that Flamenco forgot: one sleep task of one second', () => {
    const job = compileJob(jobType, {
      name: 'x',
      type: 'echo-sleep-test',
      settings: { message: 'hi' },
    });
    expect(job.tasks.map((t) => t.name)).toEqual(['echo', 'sleep-1']);
    expect(job.settings).toEqual({ message: 'hi', sleep_duration_seconds: 1, sleep_repeats: 1 });
  });
});

describe('simple-blender-render', () => {
  const jobType = loadJobType('simple-blender-render');
  const created = new Date(2024, 0, 2, 3, 4, 5);
  const settings = {
    frames: '1-5,7,9-11',
    chunk_size: 3,
    render_output_root: '/render',
    add_path_components: 0,
    render_output_path: '/render/shot/{timestamp}/######',
    blendfile: '/projects/shot.flamenco.blend',
    format: 'PNG',
    image_file_extension: '.png',
    fps: 24,
  };
  const compile = (overrides: Record<string, unknown> = {}): CompiledJob =>
    compileJob(
      jobType,
      { name: 'shot', type: 'simple-blender-render', settings: { ...settings, ...overrides } },
      { created },
    );
  const finalDir = '/render/shot/2024-01-02_030405';
  const renderDir = `${finalDir}__intermediate-2024-01-02_030405`;

  it('declares the settings of Flamenco 3.9', () => {
    expect(jobType.settings.map((s) => s.key)).toEqual([
      'frames',
      'chunk_size',
      'render_output_root',
      'add_path_components',
      'render_output_path',
      'blendfile',
      'fps',
      'format',
      'image_file_extension',
      'has_previews',
      'images_or_video',
    ]);
    expect(jobType.settings.find((s) => s.key === 'add_path_components')).toMatchObject({
      type: 'int32',
      required: true,
      default: 0,
      propargs: { min: 0, max: 32 },
      visible: 'submission',
    });
  });

  it('renders chunks, converting every range of a chunk to Blender notation, with a step per frame', () => {
    const job = compile();
    const renders = job.tasks.filter((t) => t.type === 'blender');
    expect(renders.map((t) => t.name)).toEqual(['render-1-3', 'render-4,5,7', 'render-9-11']);
    expect(renders[1]!.commands).toEqual([
      {
        name: 'blender-render',
        parameters: {
          exe: '{blender}',
          exeArgs: '{blenderArgs}',
          argsBefore: [],
          blendfile: '/projects/shot.flamenco.blend',
          args: [
            '--render-output',
            `${renderDir}/######`,
            '--render-format',
            'PNG',
            '--render-frame',
            '4,5,7',
          ],
        },
        steps: 3,
      },
    ]);
    expect(renders.map((t) => t.commands[0]!.parameters.args)).toEqual(
      ['1..3', '4,5,7', '9..11'].map((frames): unknown => expect.arrayContaining([frames])),
    );
    const multiRange = compile({ chunk_size: 20, frames: '1-3,5-7' });
    expect(multiRange.tasks[0]!.commands[0]!.parameters.args).toContain('1..3,5..7');
    expect(multiRange.tasks[0]!.steps).toBe(6);
  });

  it('adds a preview video and a final move that waits for everything', () => {
    const job = compile();
    expect(job.tasks.map((t) => [t.name, t.type, t.dependsOn])).toEqual([
      ['render-1-3', 'blender', []],
      ['render-4,5,7', 'blender', []],
      ['render-9-11', 'blender', []],
      ['preview-video', 'ffmpeg', [0, 1, 2]],
      ['move-to-final', 'file-management', [0, 1, 2, 3]],
    ]);
    expect(job.tasks[3]!.commands).toEqual([
      {
        name: 'frames-to-video',
        parameters: {
          exe: 'ffmpeg',
          fps: 24,
          inputGlob: `${renderDir}/*.png`,
          outputFile: `${renderDir}/shot-1-11.mp4`,
          args: [
            '-c:v',
            'h264',
            '-crf',
            '20',
            '-g',
            '18',
            '-vf',
            'pad=ceil(iw/2)*2:ceil(ih/2)*2',
            '-pix_fmt',
            'yuv420p',
            '-r',
            '24',
            '-y',
          ],
        },
      },
    ]);
    expect(job.tasks[4]!.commands).toEqual([
      { name: 'move-directory', parameters: { src: renderDir, dest: finalDir } },
    ]);
  });

  it('stores the render output path it actually used', () => {
    expect(compile().settings.render_output_path).toBe(`${finalDir}/######`);
  });

  it('makes no preview video without a frame rate or for EXR without previews', () => {
    const noFps = compile({ fps: undefined });
    expect(noFps.tasks.map((t) => t.name)).not.toContain('preview-video');
    expect(noFps.messages).toEqual(['No preview video: the frame rate is not known']);
    expect(noFps.tasks[noFps.tasks.length - 1]!.dependsOn).toEqual([0, 1, 2]);
    expect(compile({ format: 'OPEN_EXR' }).tasks.map((t) => t.name)).not.toContain('preview-video');
    const exrWithPreviews = compile({
      format: 'OPEN_EXR',
      has_previews: true,
      image_file_extension: '.exr',
    });
    const video = exrWithPreviews.tasks.find((t) => t.name === 'preview-video')!;
    expect(video.commands[0]!.parameters.inputGlob).toBe(`${renderDir}/*.jpg`);
  });

  it('refuses video output with a clear compile error', () => {
    for (const overrides of [{ images_or_video: 'video' }, { format: 'FFMPEG' }]) {
      let caught: unknown;
      try {
        compile(overrides);
      } catch (error) {
        caught = error;
      }
      expect(isFarmError(caught) && caught.code).toBe('compile_failed');
      expect((caught as Error).message).toMatch(/^This job type only renders images, and not "/);
    }
  });

  it('lists every missing setting at once', () => {
    let caught: unknown;
    try {
      compileJob(jobType, { name: 'x', type: 'simple-blender-render', settings: {} });
    } catch (error) {
      caught = error;
    }
    expect(isFarmError(caught) && caught.issues.map((i) => i.path)).toEqual([
      'frames',
      'render_output_root',
      'blendfile',
      'format',
      'image_file_extension',
    ]);
  });
});

describe('ffmpeg-encode', () => {
  const jobType = loadJobType('ffmpeg-encode');

  it('encodes an image sequence with frames-to-video', () => {
    const job = compileJob(jobType, {
      name: 'enc',
      type: 'ffmpeg-encode',
      settings: {
        input: '/render/shot/*.png',
        output: '/render/out/shot.mp4',
        fps: 25,
        extra_args: '-preset slow',
      },
    });
    expect(job.tasks).toHaveLength(1);
    expect(job.tasks[0]).toMatchObject({ name: 'encode', type: 'ffmpeg' });
    expect(job.tasks[0]!.commands).toEqual([
      { name: 'make-directory', parameters: { path: '/render/out' } },
      {
        name: 'frames-to-video',
        parameters: {
          exe: '{ffmpeg}',
          fps: 25,
          inputGlob: '/render/shot/*.png',
          outputFile: '/render/out/shot.mp4',
          args: [
            '-c:v',
            'libx264',
            '-crf',
            '20',
            '-pix_fmt',
            'yuv420p',
            '-vf',
            'pad=ceil(iw/2)*2:ceil(ih/2)*2',
            '-preset',
            'slow',
            '-y',
          ],
        },
      },
    ]);
  });

  it('re-encodes a video with exec of {ffmpeg}', () => {
    const job = compileJob(jobType, {
      name: 'enc',
      type: 'ffmpeg-encode',
      settings: { input: '/in/take.mov', output: '/out/take.webm', codec: 'vp9', crf: 30 },
    });
    expect(job.tasks[0]!.commands[1]).toEqual({
      name: 'exec',
      parameters: {
        exe: '{ffmpeg}',
        args: [
          '-i',
          '/in/take.mov',
          '-c:v',
          'libvpx-vp9',
          '-crf',
          '30',
          '-b:v',
          '0',
          '-r',
          '24',
          '-y',
          '/out/take.webm',
        ],
      },
    });
  });

  it('refuses codecs it does not know', () => {
    expect(() =>
      compileJob(jobType, {
        name: 'e',
        type: 'ffmpeg-encode',
        settings: { input: 'a', output: 'b', codec: 'gif' },
      }),
    ).toThrow(/job settings are invalid/);
  });
});

describe('shell-frames', () => {
  const jobType = loadJobType('shell-frames');

  it('runs the command per chunk with the frames filled in, split like a shell', () => {
    const job = compileJob(jobType, {
      name: 'sf',
      type: 'shell-frames',
      settings: {
        command: `my_tool --in {frame_start} --out {frame_end} --label "chunk {frames}"`,
        frames: '1-5,8',
        chunk_size: 3,
      },
    });
    expect(job.tasks.map((t) => [t.name, t.type, t.commands])).toEqual([
      [
        'run-1-3',
        'misc',
        [
          {
            name: 'exec',
            parameters: {
              exe: 'my_tool',
              args: ['--in', '1', '--out', '3', '--label', 'chunk 1-3'],
            },
          },
        ],
      ],
      [
        'run-4,5,8',
        'misc',
        [
          {
            name: 'exec',
            parameters: {
              exe: 'my_tool',
              args: ['--in', '4', '--out', '8', '--label', 'chunk 4,5,8'],
            },
          },
        ],
      ],
    ]);
  });

  it('handles negative frames', () => {
    const job = compileJob(jobType, {
      name: 'sf',
      type: 'shell-frames',
      settings: { command: 'tool {frame_start} {frame_end}', frames: '-5..-1', chunk_size: 5 },
    });
    expect(job.tasks[0]!.commands[0]!.parameters.args).toEqual(['-5', '-1']);
  });

  it('compiles a 100,000-task job quickly', () => {
    const started = performance.now();
    // The time is printed, not asserted: shared CI machines vary too much. The script limit is
    // raised for the same reason.
    const job = compileJob(
      jobType,
      {
        name: 'big',
        type: 'shell-frames',
        settings: { command: 'tool --frame {frame_start}', frames: '1-100000', chunk_size: 1 },
      },
      { timeoutMs: 60_000 },
    );
    const elapsedMs = performance.now() - started;
    process.stdout.write(`shell-frames, 100,000 tasks compiled in ${elapsedMs.toFixed(0)} ms\n`);
    expect(job.tasks).toHaveLength(100_000);
    expect(job.tasks[99_999]!.commands[0]!.parameters.args).toEqual(['--frame', '100000']);
  });
});
